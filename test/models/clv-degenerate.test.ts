import { expect } from 'chai';
import type { Knex } from 'knex';
import { mulberry32 } from '../../lib/random';
import { ProbabilisticClv, type ClvHistory } from '../../models/clv/probabilistic-clv';
import { servedClv } from '../../models/clv/served-clv';
import { clvSummary } from '../../features/clv-summary';
import { featuresAsOf } from '../../features/features-as-of';
import { ClvServingBundle } from '../../registry/clv-serving-bundle';
import { backtestClv, type ClvBacktestResult } from '../../training/clv-backtest';
import { trainClvModel } from '../../training/clv-training';
import { freshDatabase, type TestDatabase } from '../support/db';

const DAY_MS = 86_400_000;
const START = Date.parse('2024-01-01T00:00:00Z');
const END = new Date('2026-01-01T00:00:00Z');

/**
 * A shop where nobody ever stops buying: every customer buys at their own steady rate (one order every 10–60 days on
 * average, Poisson) from their first order to the end of the data. The BG/NBD's dropout part has nothing to fit.
 */
function regularBuyers(customers: number, seed: number): { customer_id: string; ordered_at: Date; amount: number }[] {
  const random = mulberry32(seed);
  const orders: { customer_id: string; ordered_at: Date; amount: number }[] = [];
  for (let c = 0; c < customers; c++) {
    const customerId = `reg_${String(c).padStart(5, '0')}`;
    const meanGapDays = 10 + 50 * random();
    const spend = 20 + 80 * random();
    let t = START + random() * 365 * DAY_MS;
    while (t < END.getTime()) {
      orders.push({ customer_id: customerId, ordered_at: new Date(t), amount: Math.round(spend * (0.5 + random()) * 100) / 100 });
      t += -Math.log(1 - random()) * meanGapDays * DAY_MS;
    }
  }
  return orders;
}

function history(orders: ReturnType<typeof regularBuyers>, asOf: number): ClvHistory {
  const byCustomer = new Map<string, { first: number; last: number; days: Set<number>; repeat: number[] }>();
  for (const o of orders) {
    const t = o.ordered_at.getTime();
    if (t > asOf) continue;
    const h = byCustomer.get(o.customer_id) ?? { first: t, last: t, days: new Set<number>(), repeat: [] };
    if (h.days.size > 0) h.repeat.push(o.amount);
    h.days.add(Math.floor(t / DAY_MS));
    h.last = t;
    byCustomer.set(o.customer_id, h);
  }
  const rows = [...byCustomer.values()];
  return {
    asOf: new Date(asOf),
    frequency: rows.map((h) => h.repeat.length),
    recency: rows.map((h) => (h.last - h.first) / DAY_MS),
    age: rows.map((h) => (asOf - h.first) / DAY_MS),
    meanRepeatValue: rows.map((h) => (h.repeat.length ? h.repeat.reduce((a, b) => a + b, 0) / h.repeat.length : 0)),
    expectedReturnShare: rows.map(() => 0),
  };
}

describe('Honest CLV: degenerate fits are flagged and not served', () => {
  const orders = regularBuyers(1500, 11);

  it('flags a BG/NBD fit on buyers who never drop out (a → 0), which converges all the same', () => {
    const model = new ProbabilisticClv({ horizonMonths: 3 }).fit(history(orders, END.getTime()));
    const state = model.fitState;
    expect(state.betaGeo.convergence?.converged).to.equal(true);
    expect(state.betaGeo.params.a).to.be.below(1e-3);
    expect(state.flags).to.include('bgnbd_dropout_degenerate');
  });

  it('gives a sound fit no flag and a per-customer interval around each forecast', () => {
    // The same buyers, half of whom stop for good after a random order: a dropout process to fit.
    const random = mulberry32(5);
    const stopAt = new Map<string, number>();
    const withDropout = orders.filter((o) => {
      if (!stopAt.has(o.customer_id)) stopAt.set(o.customer_id, random() < 0.5 ? Infinity : START + (1 + random()) * 365 * DAY_MS);
      return o.ordered_at.getTime() <= stopAt.get(o.customer_id)!;
    });
    const h = history(withDropout, END.getTime());
    const model = new ProbabilisticClv({ horizonMonths: 3 }).fit(h);
    expect(model.fitState.flags).to.deep.equal([]);
    const point = model.predict(h).expectedNetRevenue;
    const interval = model.predictInterval(h, { draws: 50 });
    expect(interval.level).to.equal(0.9);
    let wider = 0;
    point.forEach((p, i) => {
      expect(interval.lower[i]).to.be.at.most(p);
      expect(interval.upper[i]).to.be.at.least(p);
      if (interval.upper[i]! - interval.lower[i]! > 1e-6 * p) wider++;
    });
    expect(wider).to.be.greaterThan(0.9 * point.length);
  });

  describe('in the bake-off and at training time (real Postgres)', () => {
    let t: TestDatabase;
    let db: Knex;
    let result: ClvBacktestResult;
    const horizonDays = 90;
    before(async function () {
      this.timeout(300_000);
      t = await freshDatabase('clv_degenerate');
      db = t.db;
      const ids = [...new Set(orders.map((o) => o.customer_id))];
      await db.batchInsert(
        'customers',
        ids.map((customer_id) => ({ customer_id })),
        1000,
      );
      await db.batchInsert(
        'orders',
        orders.map((o, i) => ({ order_id: `o${i}`, ...o, status: 'completed', currency: 'EUR' })),
        2000,
      );
      result = await backtestClv(db, { asOf: new Date(END.getTime() - horizonDays * DAY_MS), horizonDays, origins: 2 });
    });
    after(() => t.db.destroy());

    it('keeps the flagged BG/NBD out of the bake-off, serves another model and says why', () => {
      expect(result.origins.every((o) => o.probabilisticFlags.includes('bgnbd_dropout_degenerate'))).to.equal(true);
      const probabilistic = result.bakeOff.candidates.find((c) => c.model === 'probabilistic')!;
      expect(probabilistic.unavailable).to.match(/fit flagged at .*bgnbd_dropout_degenerate/);
      expect(result.choice.model).not.to.equal('probabilistic');
      expect(result.bakeOff.blendWeights?.probabilistic ?? 0).to.equal(0);
    });

    it('registers a CLV model that does not serve the flagged fit, and serves an interval per customer', async function () {
      this.timeout(120_000);
      const { model, choice } = await trainClvModel(db, END, horizonDays, horizonDays / (365.25 / 12), 'test');
      expect(choice.probabilisticFlags).to.include('bgnbd_dropout_degenerate');
      expect(choice.model).not.to.equal('probabilistic');
      const bundle = ClvServingBundle.fromJSON(model.artifact);
      const summary = await clvSummary(db, { asOf: END });
      try {
        expect(bundle.serving).to.equal(choice.model);
        expect(bundle.horizonDays).to.equal(horizonDays);
        expect(bundle.probabilistic, 'the flagged fit is kept for the record').not.to.equal(null);
        const served = bundle.predict(summary, await featuresAsOf(db, END, summary.customerIds));
        expect(served.probabilistic, 'a flagged fit gives no P(alive)').to.equal(null);
        expect(served.coverage.fitFlags).to.include('bgnbd_dropout_degenerate');
        expect(served.coverage.model).to.equal(choice.model);
        expect(served.interval.level).to.equal(0.9);
        served.expectedNetRevenue.forEach((v, i) => {
          expect(served.interval.lower[i]).to.be.at.most(v);
          expect(served.interval.upper[i]).to.be.at.least(v);
        });
        expect(() =>
          servedClv({
            model: 'probabilistic',
            history: summary,
            horizonDays,
            probabilistic: bundle.probabilistic,
            gbmForecast: null,
            blendWeights: null,
          }),
        ).to.throw(/flagged/);
      } finally {
        bundle.dispose();
      }
    });
  });
});
