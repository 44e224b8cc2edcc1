import { expect } from 'chai';
import { addDays } from '../../features/churn-labels';
import { spearmanDifference } from '../../models/clv/bake-off';
import { backtestChurn, type ChurnBacktest } from '../../training/churn-backtest';
import { backtestClv, type ClvBacktestResult } from '../../training/clv-backtest';
import { ingestedShop, type ShopModes } from '../support/shop';

/**
 * The bake-offs on the generator's harder shops: no sessions at all, and sessions whose decline is weak, noisy and not
 * aligned to the horizon. What serves must hold its own against the simple rules there too (issue 8's acceptance;
 * CDNOW's are in churn-bake-off.test.ts and clv-service.test.ts).
 */
const MODES: { name: string; modes: ShopModes }[] = [
  { name: 'a transactions-only shop (no sessions)', modes: { sessions: 'none' } },
  { name: 'a realistic-signal shop (weak, noisy sessions)', modes: { signal: 'realistic' } },
];
const CUSTOMERS = 10_000;
const SEED = 42;

for (const { name, modes } of MODES) {
  describe(`training/bake-offs on ${name}, ${CUSTOMERS.toLocaleString('en-US')} customers`, function () {
    let churn: ChurnBacktest;
    let clv: ClvBacktestResult;

    before(async function () {
      this.timeout(900_000);
      const shop = await ingestedShop(CUSTOMERS, SEED, modes);
      const end = shop.exportInstant;
      churn = await backtestChurn(shop.db, { asOf: addDays(end, -90), dataAsOf: end, horizonDays: 90 });
      clv = await backtestClv(shop.db, { asOf: addDays(end, -365), horizonDays: 365 });
    });

    it('serves a churn model at least as good as the best baseline within the paired interval, calibrated to ECE ≤ 0.03', () => {
      const { bakeOff } = churn.report;
      const served = bakeOff.candidates.find((c) => c.name === bakeOff.served)!;
      const best = bakeOff.candidates.find((c) => c.name === bakeOff.bestBaseline)!;
      expect(churn.report.origins).to.have.length(3);
      // Every baseline competes, BG/NBD's P(no purchase in H) included: its fit must not stall at any cutoff.
      expect(churn.report.excluded).to.deep.equal([]);
      expect(served.rocAuc.estimate, `${served.label} against ${best.label}`).to.be.at.least(best.rocAuc.estimate);
      expect(bakeOff.marginOverBestBaseline.upper).to.be.at.least(0);
      expect(served.expectedCalibrationError.estimate, `${served.label}'s ECE`).to.be.at.most(0.03);
    });

    it('serves a CLV model that ranks customers at least as well as the historical average within the interval', () => {
      const { choice, bakeOff } = clv;
      expect(clv.origins).to.have.length(3);
      expect(choice.spearman.estimate).to.be.at.least(choice.baselineSpearman.estimate);
      if (choice.model !== 'baseline') expect(spearmanDifference(bakeOff, choice.model, 'baseline')!.upper).to.be.at.least(0);
    });
  });
}
