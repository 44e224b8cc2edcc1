import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { generateShop } from '../../datagen/generate';
import { addDays } from '../../features/churn-labels';
import { importCdnow } from '../../ingestion/import-cdnow';
import { ingestFile } from '../../ingestion/ingest-file';
import { shopIngestionFiles } from '../../ingestion/shop-files';
import { cdnowDir } from '../../lib/project-root';
import { backtestChurn, type ChurnBacktest } from '../../training/churn-backtest';
import { freshDatabase, type TestDatabase } from '../support/db';

const servedOf = (backtest: ChurnBacktest) => {
  const { bakeOff } = backtest.report;
  return bakeOff.candidates.find((c) => c.name === bakeOff.served)!;
};

describe('training/churn bake-off on real and short histories', () => {
  describe('CDNOW (23,570 customers, 18 months), rolling origins to 1998-04-02', function () {
    let t: TestDatabase;
    let backtest: ChurnBacktest;

    before(async function () {
      this.timeout(900_000);
      t = await freshDatabase('churn_cdnow');
      await importCdnow(t.db, path.join(cdnowDir, 'CDNOW_master.txt'));
      backtest = await backtestChurn(t.db, {
        asOf: new Date('1998-04-02T00:00:00Z'),
        dataAsOf: new Date('1998-07-01T00:00:00Z'),
        horizonDays: 90,
      });
      console.log(`\n${backtest.markdown}`);
    });

    after(async () => {
      await t?.db.destroy();
    });

    it('serve a model no worse than the best baseline beyond the paired interval of their AUC difference', () => {
      const { bakeOff } = backtest.report;
      expect(backtest.report.origins).to.have.length(3);
      expect(bakeOff.marginOverBestBaseline.upper).to.be.at.least(0);
      const bestBaseline = bakeOff.candidates.find((c) => c.name === bakeOff.bestBaseline)!;
      expect(servedOf(backtest).rocAuc.upper).to.be.at.least(bestBaseline.rocAuc.estimate);
    });

    it('be calibrated on the pooled origins: expected calibration error at most 0.03', () => {
      expect(servedOf(backtest).expectedCalibrationError.estimate).to.be.at.most(0.03);
    });
  });

  describe('a shop with one year of history', function () {
    let t: TestDatabase;
    let exportInstant: Date;

    before(async function () {
      this.timeout(600_000);
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-one-year-'));
      const shop = await generateShop({ customers: 4000, seed: 7, outDir, historyDays: 365 });
      t = await freshDatabase('churn_one_year');
      exportInstant = new Date(shop.exportInstant);
      for (const [entity, file] of shopIngestionFiles(shop)) await ingestFile(t.db, { entity, file, notAfter: exportInstant });
      fs.rmSync(outDir, { recursive: true, force: true });
    });

    after(async () => {
      await t?.db.destroy();
    });

    it('backtest at t = end − 90 days with cutoffs adapted to the history, each with history before it and outcomes after it', async function () {
      this.timeout(600_000);
      const asOf = addDays(exportInstant, -90);
      const backtest = await backtestChurn(t.db, { asOf, dataAsOf: exportInstant, horizonDays: 90 });
      const { report } = backtest;
      const firstOrder = await t.db('orders').where({ status: 'completed' }).min({ at: 'ordered_at' }).first();
      const earliest = addDays(new Date(firstOrder!.at as Date), report.cutoffs.minHistoryDays).getTime();
      expect(report.origins.length).to.be.within(1, 3);
      expect(report.origins[report.origins.length - 1].origin).to.equal(asOf.toISOString());
      for (const origin of report.origins) {
        const cutoffs = [...origin.fitCutoffs, ...origin.calibrationCutoffs];
        expect(cutoffs.length).to.be.at.least(report.cutoffs.minimumTrainingCutoffs);
        for (const cutoff of cutoffs) {
          expect(new Date(cutoff).getTime()).to.be.at.least(earliest);
          expect(addDays(new Date(cutoff), 90).getTime()).to.be.at.most(new Date(origin.origin).getTime());
        }
      }
      expect(backtest.markdown).to.include(report.origins[0].fitCutoffs[0].slice(0, 10));
      expect(report.bakeOff.marginOverBestBaseline.upper).to.be.at.least(0);
    });

    it('refuse an as-of without room for two training cutoffs, saying what history is needed', async () => {
      const asOf = addDays(exportInstant, -300);
      const error = await backtestChurn(t.db, { asOf, dataAsOf: exportInstant, horizonDays: 90 }).catch((e: unknown) => e);
      expect((error as Error).message).to.match(/Not enough history .* needs 2 cutoffs/);
    });
  });
});
