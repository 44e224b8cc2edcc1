import { expect } from 'chai';
import type { Knex } from 'knex';
import { ValidationError } from '../../lib/errors';
import { backtestChurn, type ChurnBacktest } from '../../training/churn-backtest';
import { loadChurnLabels } from '../../features/churn-labels';
import { CHURN_CANDIDATES, fitServedChurnModel, ServedChurnModel } from '../../models/churn/candidates';
import { rocAuc } from '../../models/evaluation/classification';
import { ChurnRowsCache, cutoffGrid, firstPurchaseAt, resolveCutoffOptions, trainingCutoffs } from '../../training/churn-training';
import { freshDatabase, type TestDatabase } from '../support/db';
import { ingestedShop, type IngestedShop } from '../support/shop';

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

    it('put cutoffs on a grid back to the first purchase and train a model serving at T on those whose outcomes are known by T', () => {
      const options = resolveCutoffOptions({ horizonDays: 90, stepDays: 30, minHistoryDays: 30, maxTrainingCutoffs: 4 });
      const anchor = new Date('2025-12-01T00:00:00Z');
      const grid = cutoffGrid(anchor, new Date('2025-01-15T00:00:00Z'), options);
      expect(grid[grid.length - 1].toISOString()).to.equal(anchor.toISOString());
      expect(grid[0].getTime()).to.be.at.least(addDays(new Date('2025-01-15T00:00:00Z'), 30).getTime());
      expect(addDays(grid[0], -30).getTime()).to.be.below(addDays(new Date('2025-01-15T00:00:00Z'), 30).getTime());
      const servesAt = addDays(anchor, 60);
      const cutoffs = trainingCutoffs(grid, servesAt, options);
      const used = [...cutoffs.fit, ...cutoffs.calibration];
      expect(used).to.have.length(4);
      expect(cutoffs.calibration).to.have.length(2);
      for (const cutoff of used) expect(addDays(cutoff, 90).getTime()).to.be.at.most(servesAt.getTime());
      expect(used[used.length - 1].toISOString()).to.equal(addDays(anchor, -30).toISOString());
      // Fewer than two usable cutoffs: refused, saying what history is needed.
      expect(() => trainingCutoffs(grid.slice(0, 1), addDays(grid[0], 90), options)).to.throw(ValidationError, /needs 2 cutoffs/);
    });

    it('read rows of a cutoff without anything dated after the data as-of', async () => {
      const dataAsOf = new Date('2025-12-01T00:00:00Z');
      const cutoff = addDays(dataAsOf, -90);
      const before = await new ChurnRowsCache(db, 90, dataAsOf).rows(cutoff);
      // c_in and c_old bought in the window (their December orders are after dataAsOf and never read).
      expect(before.customerIds).to.deep.equal(['c_in', 'c_old']);
      expect([...before.y]).to.deep.equal([0, 0]);
      expect(before.bgnbdNoPurchase).to.have.length(2);

      // Orders just after dataAsOf must change nothing: a training run then cannot have seen them.
      await db('orders').insert([
        order('late_1', 'c_none', new Date(dataAsOf.getTime() + 1)),
        order('late_2', 'c_old', addDays(dataAsOf, 1)),
      ]);
      const after = await new ChurnRowsCache(db, 90, dataAsOf).rows(cutoff);
      expect([...after.y]).to.deep.equal([...before.y]);
      expect([...after.X]).to.deep.equal([...before.X]);
    });
  });

  describe('rolling-origin bake-off on the generated 50,000-customer shop', function () {
    let backtest: ChurnBacktest;
    let asOf: Date;
    let shop: IngestedShop;

    before(async function () {
      this.timeout(900_000);
      shop = await ingestedShop(50_000, 42);
      asOf = addDays(shop.exportInstant, -90);
      backtest = await backtestChurn(shop.db, { asOf, dataAsOf: shop.exportInstant, horizonDays: 90, origins: 2 });
      console.log(`\n${backtest.markdown}`);
    });

    it('train each origin only on cutoffs whose outcomes were known by then, and list them', () => {
      const { report } = backtest;
      expect(report.origins).to.have.length(2);
      expect(report.origins[1].origin).to.equal(asOf.toISOString());
      expect(report.origins[0].origin).to.equal(addDays(asOf, -30).toISOString());
      for (const origin of report.origins) {
        const cutoffs = [...origin.fitCutoffs, ...origin.calibrationCutoffs];
        expect(cutoffs).to.have.length(report.cutoffs.maxTrainingCutoffs);
        for (const cutoff of cutoffs) {
          expect(report.cutoffs.grid).to.include(cutoff);
          expect(addDays(new Date(cutoff), 90).getTime()).to.be.at.most(new Date(origin.origin).getTime());
        }
      }
    });

    it('serve a model that beats the best baseline beyond its paired interval, with ECE at most 0.03', () => {
      const { bakeOff } = backtest.report;
      // BG/NBD may be left out where its fit degenerates; it is then listed with the reason.
      const names = [...bakeOff.candidates.map((c) => c.name), ...backtest.report.excluded.map((e) => e.name)];
      expect(names).to.have.members([...CHURN_CANDIDATES]);
      expect(bakeOff.candidates.map((c) => c.name)).to.include.members(['recency-rule', 'recency', 'rfm', 'logistic', 'xgboost']);
      expect(bakeOff.served).to.be.oneOf(['logistic', 'xgboost']);
      expect(bakeOff.marginOverBestBaseline.lower).to.be.greaterThan(0);
      const served = bakeOff.candidates.find((c) => c.name === bakeOff.served)!;
      expect(served.expectedCalibrationError.estimate).to.be.at.most(0.03);
      expect(bakeOff.reliability.reduce((sum, bin) => sum + bin.count, 0)).to.equal(bakeOff.rows);
    });

    it('report every candidate with bootstrap intervals, as JSON and as Markdown', () => {
      const json = JSON.parse(JSON.stringify(backtest.report));
      for (const candidate of json.bakeOff.candidates) {
        for (const metric of ['rocAuc', 'expectedCalibrationError', 'brierScore', 'captureTop20']) {
          const { estimate, lower, upper } = candidate[metric];
          expect(lower, `${candidate.name} ${metric}`).to.be.at.most(estimate);
          expect(upper, `${candidate.name} ${metric}`).to.be.at.least(estimate);
        }
      }
      expect(backtest.markdown).to.include('| candidate | kind | ROC AUC | calibration error (ECE) | Brier score | top-20% capture |');
      expect(backtest.markdown).to.include('## Reliability of the served model on the pooled origins');
    });

    it('serve from a registry artifact that round-trips through JSON text, with three driver sentences per customer', async () => {
      const options = resolveCutoffOptions({ horizonDays: 90 });
      const grid = cutoffGrid(addDays(shop.exportInstant, -90), await firstPurchaseAt(shop.db), options);
      const cache = new ChurnRowsCache(shop.db, 90, shop.exportInstant);
      const cutoffs = trainingCutoffs(grid, shop.exportInstant, options);
      const artifact = fitServedChurnModel(
        'logistic',
        await cache.stacked(cutoffs.fit),
        await cache.stacked(cutoffs.calibration),
        { horizonDays: 90 },
        null,
      );
      const scored = await cache.rows(grid[grid.length - 1]);
      const a = ServedChurnModel.fromJSON(artifact);
      const b = ServedChurnModel.fromJSON(JSON.parse(JSON.stringify(artifact)));
      try {
        expect(a.serving).to.equal('logistic');
        const probabilities = a.predictProba(scored);
        expect([...b.predictProba(scored)]).to.deep.equal([...probabilities]);
        expect(rocAuc(scored.y, probabilities)).to.be.greaterThan(0.7);
        const rows = 500;
        const explanations = a.explainer.explain(scored.X.subarray(0, rows * scored.ncol), rows, { top: 3 });
        for (const drivers of explanations) {
          expect(drivers).to.have.length(3);
          for (const driver of drivers)
            expect(driver.sentence)
              .to.be.a('string')
              .and.not.match(/NaN|undefined|null|Infinity/);
          const sides = drivers.map((d) => (d.contribution > 0 ? 0 : 1));
          expect(sides).to.deep.equal([...sides].sort());
        }
      } finally {
        a.dispose();
        b.dispose();
      }
    });

    it('refuse a backtest whose outcome window is not observed yet, naming asOf', async () => {
      const error = await backtestChurn(shop.db, { asOf: addDays(shop.exportInstant, -89), dataAsOf: shop.exportInstant }).catch(
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).field).to.equal('asOf');
    });
  });
});
