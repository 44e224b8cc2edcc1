import { expect } from 'chai';
import type { Knex } from 'knex';
import { ValidationError } from '../../lib/errors';
import { backtestChurn, MODEL_NAME, type ChurnBacktest } from '../../training/churn-backtest';
import { loadChurnLabels } from '../../features/churn-labels';
import { ChurnModel } from '../../models/churn/model';
import { buildChurnTrainingData } from '../../training/churn-training';
import { freshDatabase, type TestDatabase } from '../support/db';
import { ingestedShop } from '../support/shop';

const DAY_MS = 86_400_000;
const addDays = (instant: Date, days: number) => new Date(instant.getTime() + days * DAY_MS);

const order = (order_id: string, customer_id: string, ordered_at: Date, status = 'completed') => ({
  order_id,
  customer_id,
  ordered_at,
  amount: 50,
  currency: 'EUR',
  status,
});

describe('models/churn', () => {
  describe('labels and the no-future-leak guards (hand-made database)', () => {
    const CUTOFF = new Date('2026-01-01T00:00:00Z');
    const WINDOW_END = addDays(CUTOFF, 90);
    let t: TestDatabase;
    let db: Knex;

    before(async () => {
      t = await freshDatabase('churn_labels');
      db = t.db;
      const customers = ['c_in', 'c_at_cutoff', 'c_at_end', 'c_after_end', 'c_cancelled', 'c_refunded', 'c_none', 'c_old'];
      await db('customers').insert(customers.map((customer_id) => ({ customer_id, signup_at: new Date('2025-01-01T00:00:00Z') })));
      await db('orders').insert([
        order('in', 'c_in', addDays(CUTOFF, 10)),
        order('at_cutoff', 'c_at_cutoff', CUTOFF), // at the cutoff: before the window, which is (cutoff, end]
        order('at_end', 'c_at_end', WINDOW_END), // at the end: inside
        order('after_end', 'c_after_end', new Date(WINDOW_END.getTime() + 1000)),
        order('cancelled', 'c_cancelled', addDays(CUTOFF, 5), 'cancelled'),
        order('refunded', 'c_refunded', addDays(CUTOFF, 5), 'refunded'),
        // c_old buys every month of 2025 and then stops: a purchaser at every training cutoff below.
        ...Array.from({ length: 12 }, (_, month) => order(`old_${month}`, 'c_old', new Date(Date.UTC(2025, month, 15)))),
        ...Array.from({ length: 12 }, (_, month) => order(`in_${month}`, 'c_in', new Date(Date.UTC(2025, month, 20)))),
      ]);
    });

    after(async () => {
      await db.destroy();
    });

    it('label 1 exactly when no completed order falls in (cutoff, cutoff + horizon], aligned with the ids given', async () => {
      const ids = ['c_after_end', 'c_in', 'c_none', 'c_at_end', 'c_cancelled', 'c_at_cutoff', 'c_refunded', 'c_in', 'c_unknown'];
      const labels = await loadChurnLabels(db, CUTOFF, 90, ids, { dataAsOf: WINDOW_END });
      expect([...labels]).to.deep.equal([1, 0, 1, 0, 1, 1, 1, 0, 1]);
      expect(await loadChurnLabels(db, CUTOFF, 90, [], { dataAsOf: WINDOW_END })).to.have.length(0);
    });

    it('refuse a label window that ends after the data as-of, naming the cutoff', async () => {
      const oneMsShort = new Date(WINDOW_END.getTime() - 1);
      const error = await loadChurnLabels(db, CUTOFF, 90, ['c_in'], { dataAsOf: oneMsShort }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).field).to.equal('cutoff');
      expect((error as Error).message).to.match(/not be fully observed/);
    });

    it('refuse a horizon that is not a positive number of days', async () => {
      const error = await loadChurnLabels(db, CUTOFF, 0, ['c_in'], { dataAsOf: WINDOW_END }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).field).to.equal('horizonDays');
    });

    it('build training data from cutoffs trainAsOf − horizon − k·step whose label windows end by trainAsOf', async () => {
      const trainAsOf = new Date('2025-12-01T00:00:00Z');
      const build = () => buildChurnTrainingData(db, { trainAsOf, horizonDays: 90, cutoffs: 2, stepDays: 30 });
      const before = await build();
      expect(before.calibrationCutoff.toISOString()).to.equal(addDays(trainAsOf, -90).toISOString());
      expect(before.trainingCutoffs.map((c) => c.toISOString())).to.deep.equal([
        addDays(trainAsOf, -150).toISOString(),
        addDays(trainAsOf, -120).toISOString(),
      ]);
      // c_in and c_old bought in every window (their December orders are after trainAsOf and never read).
      expect(before.calibration.customerIds).to.deep.equal(['c_in', 'c_old']);
      expect([...before.calibration.y]).to.deep.equal([0, 0]);
      expect(before.train.nrow).to.equal(4);

      // Orders just after trainAsOf must change nothing: the training run cannot have seen them.
      await db('orders').insert([
        order('late_1', 'c_none', new Date(trainAsOf.getTime() + 1)),
        order('late_2', 'c_old', addDays(trainAsOf, 1)),
      ]);
      const after = await build();
      expect([...after.train.y]).to.deep.equal([...before.train.y]);
      expect([...after.train.X]).to.deep.equal([...before.train.X]);
      expect([...after.calibration.y]).to.deep.equal([...before.calibration.y]);
    });
  });

  describe('backtest on the generated 50,000-customer shop', function () {
    let backtest: ChurnBacktest;
    let asOf: Date;

    before(async function () {
      this.timeout(600_000);
      const shop = await ingestedShop(50_000, 42);
      asOf = addDays(shop.exportInstant, -90);
      backtest = await backtestChurn(shop.db, { asOf, dataAsOf: shop.exportInstant, horizonDays: 90 });
      console.log(`\n${backtest.markdown}`);
    });

    after(() => {
      backtest?.model.dispose();
    });

    it('train as of t − 90 days from four cutoffs and a later calibration cutoff, all with observed label windows', () => {
      const { report } = backtest;
      expect(report.trainAsOf).to.equal(addDays(asOf, -90).toISOString());
      expect(report.calibrationCutoff).to.equal(addDays(asOf, -180).toISOString());
      expect(report.trainingCutoffs).to.deep.equal([4, 3, 2, 1].map((k) => addDays(asOf, -180 - 30 * k).toISOString()));
      expect(report.rows.scored).to.equal(backtest.scored.nrow);
      expect(report.boostingRounds).to.be.within(1, 400);
    });

    it('beat every baseline on ROC AUC', () => {
      const { report } = backtest;
      expect(report.baselines.map((b) => b.name)).to.have.length(3);
      for (const baseline of report.baselines) {
        expect(report.model.rocAuc, baseline.name).to.be.greaterThan(baseline.metrics.rocAuc);
      }
      expect(report.comparison.rows.find((row) => row.key === 'rocAuc')!.best).to.deep.equal([MODEL_NAME]);
    });

    it('be calibrated on the scored period: expected calibration error (10 equal-width bins) at most 0.03', () => {
      expect(backtest.report.model.expectedCalibrationError).to.be.at.most(0.03);
      const rows = backtest.report.reliability.reduce((sum, bin) => sum + bin.count, 0);
      expect(rows).to.equal(backtest.scored.nrow);
    });

    it('report JSON-ready numbers and a Markdown table with the model beside the baselines', () => {
      const json = JSON.parse(JSON.stringify(backtest.report));
      expect(json.model.topFractions.map((top: { fraction: number }) => top.fraction)).to.deep.equal([0.1, 0.2]);
      expect(backtest.markdown).to.include(
        `| Metric | ${MODEL_NAME} | Days since last order | No order for over 90 days | RFM heuristic |`,
      );
      expect(backtest.markdown).to.include('| ROC AUC ↑ |');
      expect(backtest.markdown).to.include('## Reliability of the model on the scored period');
    });

    it('explain each customer with three non-empty driver sentences, those pushing toward churn first', () => {
      const rows = 500;
      const { X, ncol } = backtest.scored;
      const explanations = backtest.model.explain(X.subarray(0, rows * ncol), rows, { top: 3 });
      expect(explanations).to.have.length(rows);
      for (const drivers of explanations) {
        expect(drivers).to.have.length(3);
        for (const driver of drivers) {
          expect(driver.sentence).to.be.a('string').with.length.greaterThan(0);
          expect(driver.sentence).not.to.match(/NaN|undefined|null|Infinity/);
          expect(backtest.model.featureNames).to.include(driver.feature);
        }
        const sides = drivers.map((d) => (d.contribution > 0 ? 0 : 1));
        expect(sides).to.deep.equal([...sides].sort());
      }
      const sentences = explanations.flat().map((d) => d.sentence);
      expect(sentences.some((s) => /^No order for \d[\d,]* days, .* this customer's usual gap of \d+ days$/.test(s))).to.equal(true);
    });

    it('give identical probabilities and drivers after a toJSON → text → fromJSON round trip', () => {
      const { X, nrow, ncol, probabilities } = backtest.scored;
      const restored = ChurnModel.fromJSON(JSON.stringify(backtest.model.toJSON()));
      try {
        expect([...restored.predictProba(X, nrow)]).to.deep.equal([...probabilities]);
        const sample = X.subarray(0, 50 * ncol);
        expect(restored.explain(sample, 50)).to.deep.equal(backtest.model.explain(sample, 50));
      } finally {
        restored.dispose();
      }
    });

    it('refuse a backtest whose outcome window is not observed yet, naming asOf', async () => {
      const shop = await ingestedShop(50_000, 42);
      const error = await backtestChurn(shop.db, { asOf: addDays(shop.exportInstant, -89), dataAsOf: shop.exportInstant }).catch(
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).field).to.equal('asOf');
    });
  });
});
