import { expect } from 'chai';
import type { Knex } from 'knex';
import path from 'node:path';
import { importCdnow } from '../../ingestion/import-cdnow';
import { ValidationError } from '../../lib/errors';
import { backtestClv, clvBacktestToMarkdown, type ClvBacktestResult } from '../../training/clv-backtest';
import {
  CLV_CANDIDATES,
  chooseClvModel as chooseFromBakeOff,
  spearmanDifference,
  type CandidateResult,
  type ClvBakeOff,
  type ClvCandidate,
} from '../../models/clv/bake-off';
import type { Interval } from '../../models/evaluation/bootstrap';
import type { RegressionMetrics } from '../../models/evaluation/regression';
import { historicalAverageClv, historicalAverageInterval } from '../../models/clv/baseline';
import { featuresAsOf } from '../../features/features-as-of';
import { GbmClv } from '../../models/clv/gbm-clv';
import { ProbabilisticClv } from '../../models/clv/probabilistic-clv';
import { clvSummary, DEFAULT_RETURN_SHARE_PRIOR_ORDERS, purchaseHistories, type ClvSummary } from '../../features/clv-summary';
import { freshDatabase, type TestDatabase } from '../support/db';
import { ingestedShop } from '../support/shop';
import { cdnowDir } from '../../lib/project-root';
import { mulberry32 } from '../../lib/random';

const DAY_MS = 86_400_000;
const AS_OF = new Date('2026-07-01T00:00:00Z');
const at = (iso: string) => new Date(iso);
const daysBetween = (from: string, to: Date) => (to.getTime() - at(from).getTime()) / DAY_MS;

/**
 * A small world as of 2026-07-01 (UTC):
 * - alice buys twice on 2026-01-01 (one transaction of 120), twice on 2026-03-02 (80; one of those orders was later
 *   refunded in full), cancels one order, and buys 60 on 2026-06-01; she returned 25 + 30 before as_of. After
 *   as_of: two orders on 2026-07-15 (one transaction, 100) with a 40 return against one of them, a 20 return against
 *   an old order, and an order after the 30-day holdout.
 * - bob bought once, 5.5 days before as_of; dave bought at as_of exactly; frank bought 200 outside the last 365 days
 *   (returning 50 of it back then) and 100 inside, refunded in full.
 * - carol only cancelled; erin's first order comes after as_of: neither is in the summary.
 */
async function seedSmallWorld(db: Knex): Promise<void> {
  await db('customers').insert(['c_alice', 'c_bob', 'c_carol', 'c_dave', 'c_erin', 'c_frank'].map((customer_id) => ({ customer_id })));
  const order = (order_id: string, customer_id: string, ordered_at: string, amount: number, status = 'completed') => ({
    order_id,
    customer_id,
    ordered_at: at(ordered_at),
    amount,
    status,
    currency: 'EUR',
  });
  await db('orders').insert([
    order('a1', 'c_alice', '2026-01-01T09:00:00Z', 100),
    order('a2', 'c_alice', '2026-01-01T15:00:00Z', 20),
    order('a3', 'c_alice', '2026-03-02T10:00:00Z', 50),
    order('a4', 'c_alice', '2026-03-02T23:30:00Z', 30, 'refunded'),
    order('a5', 'c_alice', '2026-05-01T12:00:00Z', 40, 'cancelled'),
    order('a6', 'c_alice', '2026-06-01T09:00:00Z', 60),
    order('a7', 'c_alice', '2026-07-15T10:00:00Z', 90),
    order('a8', 'c_alice', '2026-07-15T12:00:00Z', 10),
    order('a9', 'c_alice', '2026-08-15T12:00:00Z', 500),
    order('b1', 'c_bob', '2026-06-25T12:00:00Z', 80),
    order('c1', 'c_carol', '2026-05-01T12:00:00Z', 30, 'cancelled'),
    order('d1', 'c_dave', '2026-07-01T00:00:00Z', 50),
    order('e1', 'c_erin', '2026-07-02T12:00:00Z', 70),
    order('f1', 'c_frank', '2025-01-01T12:00:00Z', 200),
    order('f2', 'c_frank', '2026-02-01T12:00:00Z', 100, 'refunded'),
  ]);
  const ret = (return_id: string, order_id: string, customer_id: string, returned_at: string, amount: number) => ({
    return_id,
    order_id,
    customer_id,
    returned_at: at(returned_at),
    amount,
  });
  await db('returns').insert([
    ret('r1', 'a1', 'c_alice', '2026-01-05T10:00:00Z', 25),
    ret('r2', 'a4', 'c_alice', '2026-03-10T10:00:00Z', 30),
    ret('r3', 'a7', 'c_alice', '2026-07-20T10:00:00Z', 40),
    ret('r4', 'a6', 'c_alice', '2026-07-05T10:00:00Z', 20),
    ret('rf1', 'f1', 'c_frank', '2025-02-01T10:00:00Z', 50),
    ret('rf2', 'f2', 'c_frank', '2026-02-10T10:00:00Z', 100),
  ]);
}

/** The columns that must depend on data at or before as_of only. */
function calibrationColumns(summary: ClvSummary) {
  const { holdout: _holdout, ...calibration } = summary;
  return calibration;
}

function expectSaneTotal(metrics: RegressionMetrics, label: string): void {
  expect(metrics.predictedToActual, `${label}: total predicted ÷ actual`).to.be.within(0.67, 1.5);
}

describe('CLV as a served model', () => {
  describe('clvSummary on a hand-made database', () => {
    let t: TestDatabase;
    let summary: ClvSummary;
    const row = (id: string) => summary.customerIds.indexOf(id);
    before(async () => {
      t = await freshDatabase('clv_summary');
      await seedSmallWorld(t.db);
      summary = await clvSummary(t.db, { asOf: AS_OF, holdoutDays: 30 });
    });
    after(() => t.db.destroy());

    it('covers the customers with a purchase at or before as_of, in customer_id order', () => {
      expect(summary.customerIds).to.deep.equal(['c_alice', 'c_bob', 'c_dave', 'c_frank']);
    });

    it('merges same-day orders into one transaction and measures t_x and T in days', () => {
      const i = row('c_alice');
      // Transactions on 01-01 (09:00), 03-02 (10:00; the refunded 23:30 order merged in), 06-01; the cancelled one is not one.
      expect(summary.frequency[i]).to.equal(2);
      expect(summary.recency[i]).to.be.closeTo(151, 1e-9);
      expect(summary.age[i]).to.be.closeTo(daysBetween('2026-01-01T09:00:00Z', AS_OF), 1e-9);
      // Repeat transactions 50 + 30 and 60; the first day's 120 is left out.
      expect(summary.meanRepeatValue[i]).to.be.closeTo(70, 1e-9);
      expect(summary.purchasedAmount[i]).to.equal(260);
      expect(summary.returnedAmount[i]).to.equal(55);
    });

    it('gives the churn rows the same histories alone (purchaseHistories: x, t_x, T)', async () => {
      const histories = await purchaseHistories(t.db, AS_OF);
      expect(histories.customerIds).to.deep.equal(summary.customerIds);
      expect([...histories.frequency]).to.deep.equal([...summary.frequency]);
      expect([...histories.recency]).to.deep.equal([...summary.recency]);
      expect([...histories.age]).to.deep.equal([...summary.age]);
    });

    it('gives one-time buyers x = 0, t_x = 0 and z̄ = 0, and counts an order at as_of exactly', () => {
      const bob = row('c_bob');
      expect([summary.frequency[bob], summary.recency[bob], summary.meanRepeatValue[bob]]).to.deep.equal([0, 0, 0]);
      expect(summary.age[bob]).to.be.closeTo(5.5, 1e-9);
      const dave = row('c_dave');
      expect([summary.frequency[dave], summary.age[dave], summary.purchasedAmount[dave]]).to.deep.equal([0, 0, 50]);
    });

    it('shrinks each return share toward the population share with a prior of five average transactions', () => {
      const purchased = 260 + 80 + 50 + 300;
      const returned = 55 + 150;
      const transactions = 3 + 1 + 1 + 2;
      const populationShare = returned / purchased;
      const k = (DEFAULT_RETURN_SHARE_PRIOR_ORDERS * purchased) / transactions;
      expect(summary.populationReturnShare).to.be.closeTo(populationShare, 1e-12);
      expect(summary.returnSharePriorWeight).to.be.closeTo(k, 1e-9);
      const expected = { c_alice: [55, 260], c_bob: [0, 80], c_dave: [0, 50], c_frank: [150, 300] };
      for (const [id, [r, p]] of Object.entries(expected)) {
        expect(summary.expectedReturnShare[row(id)], id).to.be.closeTo((r + k * populationShare) / (p + k), 1e-12);
      }
    });

    it("takes the recent window's net spend for the baseline: frank's older purchase and return fall outside it", () => {
      expect(summary.recentWindowDays).to.equal(365);
      expect(summary.recentNetSpend[row('c_alice')]).to.equal(205);
      expect(summary.recentNetSpend[row('c_frank')]).to.equal(0);
      const baseline = historicalAverageClv(summary, 73);
      expect(baseline[row('c_alice')]).to.be.closeTo(41, 1e-12);
      expect(baseline[row('c_frank')]).to.equal(0);
    });

    it("takes the population's mean net spend per recent transaction over every customer, for the baseline's interval", () => {
      let spend = 0;
      let transactions = 0;
      summary.customerIds.forEach((_, i) => {
        spend += Math.max(0, summary.recentNetSpend[i]!);
        transactions += summary.recentTransactions[i]!;
      });
      expect(transactions).to.be.greaterThan(0);
      expect(summary.recentMeanTransactionValue).to.be.closeTo(spend / transactions, 1e-9);
    });

    it('reports the holdout: transactions (same-day merged) and net revenue after returns against them', () => {
      const { transactions, netRevenue } = summary.holdout!;
      // 07-15: 90 + 10 in one transaction, minus the 40 returned from it; the return of an older order and the
      // order after the 30-day window do not count. Dave's order at as_of belongs to the calibration period.
      expect([transactions[row('c_alice')], netRevenue[row('c_alice')]]).to.deep.equal([1, 60]);
      expect([transactions[row('c_dave')], netRevenue[row('c_dave')]]).to.deep.equal([0, 0]);
    });

    it('reads nothing after as_of for the calibration part', async () => {
      const before = calibrationColumns(await clvSummary(t.db, { asOf: AS_OF }));
      expect(before).to.deep.equal(calibrationColumns(summary));
      const trx = await t.db.transaction();
      try {
        // Bob's order is refunded after as_of (its status changes) and he buys again a second after as_of.
        await trx('orders').where({ order_id: 'b1' }).update({ status: 'refunded' });
        await trx('returns').insert({
          return_id: 'rb1',
          order_id: 'b1',
          customer_id: 'c_bob',
          returned_at: at('2026-07-03T10:00:00Z'),
          amount: 80,
        });
        await trx('orders').insert({
          order_id: 'b2',
          customer_id: 'c_bob',
          ordered_at: at('2026-07-01T00:00:01Z'),
          amount: 15,
          status: 'completed',
          currency: 'EUR',
        });
        expect(calibrationColumns(await clvSummary(trx, { asOf: AS_OF }))).to.deep.equal(before);
      } finally {
        await trx.rollback();
      }
    });

    it('refuses a holdout that is not a positive number of days', async () => {
      const failure = await clvSummary(t.db, { asOf: AS_OF, holdoutDays: 0 }).catch((error: unknown) => error);
      expect(failure).to.be.instanceOf(ValidationError);
    });
  });

  describe('historicalAverageInterval', () => {
    it('gives a customer the same bounds whether scored with everybody or in small batches (partitions)', () => {
      const random = mulberry32(17);
      const n = 200;
      const recentTransactions = Int32Array.from({ length: n }, () => (random() < 0.3 ? 0 : 1 + Math.floor(random() * 5)));
      const recentNetSpend = Float64Array.from(recentTransactions, (k) => (k === 0 ? 0 : k * (10 + 90 * random()) - 20 * random()));
      const history = { recentWindowDays: 365, recentNetSpend, recentTransactions, recentMeanTransactionValue: 47.5 };
      const whole = historicalAverageInterval(history, 365, 0.9);
      expect(whole.upper.filter((_, i) => recentTransactions[i] === 0 && whole.upper[i]! > 0).length).to.be.greaterThan(0);
      const batch = 7;
      for (let from = 0; from < n; from += batch) {
        const part = historicalAverageInterval(
          {
            ...history,
            recentNetSpend: recentNetSpend.subarray(from, from + batch),
            recentTransactions: recentTransactions.subarray(from, from + batch),
          },
          365,
          0.9,
        );
        expect([...part.lower], `customers ${from}…`).to.deep.equal([...whole.lower.subarray(from, from + batch)]);
        expect([...part.upper], `customers ${from}…`).to.deep.equal([...whole.upper.subarray(from, from + batch)]);
      }
    });

    it('refuses a population mean spend that is not a non-negative number, naming it', () => {
      const history = { recentWindowDays: 365, recentNetSpend: [10], recentTransactions: [1], recentMeanTransactionValue: Number.NaN };
      expect(() => historicalAverageInterval(history, 365, 0.9)).to.throw(ValidationError, /recentMeanTransactionValue/);
    });
  });

  describe('chooseClvModel (the serving rule)', () => {
    const interval = (estimate: number, half = 0.01): Interval => ({
      estimate,
      lower: estimate - half,
      upper: estimate + half,
      level: 0.95,
      replicates: 200,
    });
    const candidate = (model: ClvCandidate, spearman: number | null): CandidateResult => ({
      model,
      unavailable: spearman === null ? 'not trained' : null,
      spearman: spearman === null ? null : interval(spearman),
      topDecileCapture: spearman === null ? null : interval(0.5),
      predictedToActual: spearman === null ? null : interval(1),
    });
    const bakeOff = (
      spearmans: Record<ClvCandidate, number | null>,
      differences: [ClvCandidate, ClvCandidate, number, number][],
    ): ClvBakeOff => ({
      primaryMetric: 'Spearman',
      origins: 3,
      rows: 1000,
      candidates: CLV_CANDIDATES.map((c) => candidate(c, spearmans[c])),
      spearmanDifferences: differences.map(([model, versus, lower, upper]) => ({
        model,
        versus,
        difference: { estimate: (lower + upper) / 2, lower, upper, level: 0.95, replicates: 200 },
      })),
      blendWeights: { probabilistic: 0.5, gbm: 0.5 },
      blendWeightsByOrigin: [],
    });

    it('serves the best pooled Spearman unless a simpler model is within the interval of the difference', () => {
      const clear = bakeOff({ baseline: 0.5, probabilistic: 0.55, gbm: 0.6, blend: null }, [
        ['baseline', 'gbm', -0.12, -0.08],
        ['probabilistic', 'gbm', -0.07, -0.03],
      ]);
      expect(chooseFromBakeOff(clear).model).to.equal('gbm');
      const tie = bakeOff({ baseline: 0.5, probabilistic: 0.58, gbm: 0.6, blend: null }, [
        ['baseline', 'gbm', -0.12, -0.08],
        ['probabilistic', 'gbm', -0.04, 0.005],
      ]);
      const choice = chooseFromBakeOff(tie);
      expect(choice.model).to.equal('probabilistic');
      expect(choice.reason).to.match(/simpler model serves/);
    });

    it('never serves a model that ranks below the historical average (the old rule picked XGBoost by MAE)', () => {
      // The real log of the issue: historical average 0.514, BG/NBD 0.501, XGBoost 0.489.
      const choice = chooseFromBakeOff(
        bakeOff({ baseline: 0.514, probabilistic: 0.501, gbm: 0.489, blend: 0.51 }, [
          ['probabilistic', 'baseline', -0.03, 0.004],
          ['gbm', 'baseline', -0.04, -0.01],
          ['blend', 'baseline', -0.02, 0.01],
        ]),
      );
      expect(choice.model).to.equal('baseline');
      expect(choice.spearman.estimate).to.be.at.least(choice.baselineSpearman.estimate);
    });

    it('falls back to the best of the rest when a candidate is ruled out at serving time, blends using it included', () => {
      const result = bakeOff({ baseline: 0.4, probabilistic: 0.6, gbm: 0.5, blend: 0.62 }, [
        ['baseline', 'blend', -0.25, -0.2],
        ['probabilistic', 'blend', -0.05, -0.01],
        ['gbm', 'blend', -0.15, -0.1],
        ['baseline', 'gbm', -0.12, -0.08],
      ]);
      expect(chooseFromBakeOff(result).model).to.equal('blend');
      expect(chooseFromBakeOff(result, { probabilistic: 'flagged' }).model).to.equal('gbm');
    });
  });

  describe('on the synthetic shop (50,000 customers, seed 42), forecasting the last year of its history', () => {
    let db: Knex;
    let asOf: Date;
    let result: ClvBacktestResult;
    const horizonDays = 365;
    before(async function () {
      this.timeout(600_000); // the shared shop's generation and ingestion, when this file is the first to ask for it
      const shop = await ingestedShop(50_000, 42);
      db = shop.db;
      asOf = new Date(shop.exportInstant.getTime() - horizonDays * DAY_MS);
      result = await backtestClv(db, { asOf, horizonDays, origins: 2, dataset: 'synthetic shop (50,000 customers, seed 42)' });
    });

    it('ranks customers better than the historical average with both models on every origin, with sane totals', () => {
      expect(result.origins.length).to.be.at.least(2);
      for (const origin of result.origins) {
        const { probabilistic, gbm, baseline } = origin.metrics;
        expect(gbm, origin.gbmSkipped ?? '').not.to.equal(null);
        expect(probabilistic!.spearman).to.be.greaterThan(baseline!.spearman);
        expect(gbm!.spearman).to.be.greaterThan(baseline!.spearman);
        expectSaneTotal(probabilistic!, 'probabilistic');
        expectSaneTotal(gbm!, 'gbm');
      }
      expect(result.choice.spearman.estimate).to.be.greaterThan(result.choice.baselineSpearman.estimate);
    });

    it('reports every candidate with bootstrap intervals beside the historical average, as JSON and Markdown', () => {
      const json = JSON.parse(JSON.stringify(result)) as ClvBacktestResult;
      expect(json.bakeOff.candidates.map((c) => c.model)).to.deep.equal(['baseline', 'probabilistic', 'gbm', 'blend']);
      for (const c of json.bakeOff.candidates) {
        for (const metric of [c.spearman!, c.topDecileCapture!, c.predictedToActual!]) {
          expect(metric.lower, c.model).to.be.at.most(metric.estimate);
          expect(metric.upper, c.model).to.be.at.least(metric.estimate);
        }
      }
      const markdown = clvBacktestToMarkdown(result);
      expect(markdown).to.include('| Model | Spearman ↑ | Top-decile capture ↑ | Total ÷ actual → 1 | Δ Spearman vs historical average |');
      expect(markdown).to.include('Serving: **');
      expect(markdown).to.match(/total bias \(total predicted ÷ actual\) on the backtest: \d\.\d{3} \[/);
    });

    describe('ProbabilisticClv', () => {
      let summary: ClvSummary;
      let model: ProbabilisticClv;
      before(async () => {
        summary = await clvSummary(db, { asOf });
        model = new ProbabilisticClv().fit(summary);
      });

      it('exposes convergence and standard errors of both fits', () => {
        const state = model.fitState;
        expect(state.betaGeo.convergence?.converged).to.equal(true);
        expect(state.gammaGamma.convergence?.converged).to.equal(true);
        expect(state.betaGeo.standardErrors).not.to.equal(null);
        expect(state.gammaGamma.standardErrors).not.to.equal(null);
      });

      it("marks cold starts 'low' with a reason, one-order customers getting the population mean spend", () => {
        const prediction = model.predict(summary);
        const { populationMeanSpend } = model.fitState;
        let singles = 0;
        let young = 0;
        for (let i = 0; i < summary.customerIds.length; i++) {
          const reason = prediction.confidenceReason[i];
          if (summary.frequency[i] === 0) {
            singles++;
            expect([prediction.confidence[i], reason]).to.deep.equal(['low', 'single-purchase']);
            expect(prediction.expectedSpendPerOrder[i]).to.be.closeTo(populationMeanSpend, 1e-9 * populationMeanSpend);
          } else if (summary.age[i] < 30) {
            young++;
            expect([prediction.confidence[i], reason]).to.deep.equal(['low', 'short-tenure']);
          } else {
            expect(prediction.confidence[i]).not.to.equal('low');
            expect(reason === null).to.equal(prediction.confidence[i] === 'high');
          }
        }
        expect(singles, 'one-order customers').to.be.greaterThan(0);
        expect(young, 'repeat buyers younger than 30 days').to.be.greaterThan(0);
      });

      it('dates the next order within the horizon only when one is more likely than not, and discounts on request', () => {
        const prediction = model.predict(summary);
        const horizonEnd = asOf.getTime() + 365.25 * DAY_MS;
        prediction.expectedNextOrderAt.forEach((date) => {
          if (date !== null) expect(date.getTime()).to.be.within(asOf.getTime(), horizonEnd);
        });
        expect(prediction.expectedNextOrderAt.some((date) => date === null)).to.equal(true);
        const discounted = ProbabilisticClv.fromJSON({
          ...model.toJSON(),
          options: { ...model.options, monthlyDiscountRate: 0.01 },
        }).predict(summary);
        discounted.expectedNetRevenue.forEach((value, i) => expect(value).to.be.at.most(prediction.expectedNetRevenue[i]));
      });

      it('round-trips through JSON with identical predictions', () => {
        const restored = ProbabilisticClv.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
        expect(restored.predict(summary)).to.deep.equal(model.predict(summary));
      });
    });

    it('GbmClv round-trips through JSON with identical predictions', async () => {
      const cutoff = new Date(asOf.getTime() - horizonDays * DAY_MS);
      const training = await clvSummary(db, { asOf: cutoff, holdoutDays: horizonDays });
      const features = await featuresAsOf(db, cutoff, training.customerIds);
      const model = new GbmClv({ horizonDays, maxRounds: 50 }).fit(features, training.holdout!.netRevenue);
      const restored = GbmClv.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
      try {
        expect(restored.predict(features)).to.deep.equal(model.predict(features));
      } finally {
        model.dispose();
        restored.dispose();
      }
    });
  });

  describe('on CDNOW (23,570 customers who first bought in Q1 1997), forecasting the 39 weeks after 1997-09-30', () => {
    let t: TestDatabase;
    let result: ClvBacktestResult;
    before(async function () {
      this.timeout(300_000);
      t = await freshDatabase('clv_cdnow');
      await importCdnow(t.db, path.join(cdnowDir, 'CDNOW_master.txt'));
      result = await backtestClv(t.db, { asOf: new Date('1997-09-30T00:00:00Z'), horizonDays: 273, dataset: 'CDNOW master' });
    });
    after(() => t.db.destroy());

    it('serves a model that ranks customers at least as well as the historical average, beyond its interval', () => {
      expect(result.customers).to.equal(23_570);
      const { choice, bakeOff } = result;
      expect(choice.spearman.estimate).to.be.at.least(choice.baselineSpearman.estimate);
      if (choice.model !== 'baseline') {
        // The served model is not worse than the historical average beyond the bootstrap interval of the difference.
        expect(spearmanDifference(bakeOff, choice.model, 'baseline')!.upper).to.be.greaterThan(0);
      }
      const probabilistic = bakeOff.candidates.find((c) => c.model === 'probabilistic')!;
      expect(probabilistic.unavailable).to.equal(null);
      expect(probabilistic.spearman!.estimate).to.be.greaterThan(bakeOff.candidates[0]!.spearman!.estimate);
      expectSaneTotal(result.origins[result.origins.length - 1]!.metrics.probabilistic!, 'probabilistic');
    });

    it('leaves out the GBM, whose training cutoff precedes every first purchase, and says so', () => {
      expect(result.origins.every((o) => o.metrics.gbm === null)).to.equal(true);
      expect(result.origins[0]!.gbmSkipped).to.match(/^0 customers had purchased by the training cutoff/);
      expect(result.bakeOff.candidates.find((c) => c.model === 'gbm')!.unavailable).to.match(/not trained/);
    });
  });
});
