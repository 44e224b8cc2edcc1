import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { cdnowDir } from '../../lib/project-root';
import { ModelError } from '../../lib/errors';
import { cdnowCalibrationSummary } from '../../models/clv/cdnow';
import { ProbabilisticClv, type ClvHistory } from '../../models/clv/probabilistic-clv';

/** Relative differences |a − b| / b, sorted. */
function relativeDifferences(a: Float64Array, b: Float64Array): number[] {
  return Array.from(a, (v, i) => Math.abs(v - b[i]!) / Math.max(1e-9, Math.abs(b[i]!))).sort((x, y) => x - y);
}
const at = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/**
 * The served interval of the BG/NBD + Gamma-Gamma CLV is the delta method's; parameter sampling (the method it
 * replaced for speed) is its reference. On CDNOW's 23,570 customers (39-week calibration, a 12-month horizon), the
 * delta bounds must sit closer to the bounds of 2,000 parameter draws than 100 draws do, and within a tight
 * tolerance of them.
 */
describe('CLV interval: the delta method against parameter sampling (CDNOW master)', function () {
  this.timeout(120_000);
  let model: ProbabilisticClv;
  let history: ClvHistory;

  before(() => {
    const summary = cdnowCalibrationSummary(fs.readFileSync(path.join(cdnowDir, 'CDNOW_master.txt'), 'utf8'), 'master');
    const days = (weeks: number) => weeks * 7;
    history = {
      asOf: new Date('1997-09-30T00:00:00Z'),
      frequency: summary.map((c) => c.frequency),
      recency: summary.map((c) => days(c.recency)),
      age: summary.map((c) => days(c.age)),
      meanRepeatValue: summary.map((c) => c.meanRepeatValue),
      expectedReturnShare: summary.map(() => 0),
    };
    model = new ProbabilisticClv({ horizonMonths: 12 }).fit(history);
  });

  it('is the default, closed form (no draws), and contains the point forecast', () => {
    const point = model.predict(history).expectedNetRevenue;
    const interval = model.predictInterval(history);
    expect(interval).to.include({ method: 'delta-method', draws: 0, level: 0.9 });
    point.forEach((p, i) => {
      expect(interval.lower[i], `customer ${i}`).to.be.at.most(p);
      expect(interval.upper[i], `customer ${i}`).to.be.at.least(p);
    });
    // Parameter uncertainty of a 23,570-customer fit: not nothing, not everything.
    const widths = Array.from(point, (p, i) => (interval.upper[i]! - interval.lower[i]!) / p).sort((a, b) => a - b);
    expect(at(widths, 0.5)).to.be.within(0.01, 0.5);
  });

  it('agrees with 2,000 parameter draws closer than 100 draws do', () => {
    const delta = model.predictInterval(history);
    const reference = model.predictInterval(history, { method: 'parameter-sampling', draws: 2000, seed: 7 });
    const hundred = model.predictInterval(history, { method: 'parameter-sampling', draws: 100 });
    for (const bound of ['lower', 'upper'] as const) {
      const deltaError = relativeDifferences(delta[bound], reference[bound]);
      const samplingError = relativeDifferences(hundred[bound], reference[bound]);
      // Measured 2026-11-29 (delta vs 100 draws): lower median 0.07% vs 0.08%, 95th percentile 0.13% vs 0.49%;
      // upper 0.02% vs 0.06% and 0.21% vs 0.48%. The reference's own sampling noise is about 0.02% at the median.
      expect(at(deltaError, 0.95), `${bound}: 95th percentile, delta vs 100 draws`).to.be.below(at(samplingError, 0.95));
      expect(at(deltaError, 0.5), `${bound}: median`).to.be.below(0.002);
      expect(at(deltaError, 0.95), `${bound}: 95th percentile`).to.be.below(0.005);
    }
  });

  it('refuses a fit without a covariance, as sampling does', () => {
    const json = model.toJSON();
    const broken = ProbabilisticClv.fromJSON({
      ...json,
      betaGeo: { ...json.betaGeo, state: { ...json.betaGeo.state, covariance: null } },
    });
    expect(() => broken.predictInterval(history)).to.throw(ModelError, /standard_errors_missing/);
    expect(() => broken.predictInterval(history, { method: 'parameter-sampling' })).to.throw(ModelError, /standard_errors_missing/);
  });
});
