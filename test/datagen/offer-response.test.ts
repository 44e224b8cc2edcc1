import { expect } from 'chai';
import { simulateOfferResponse, type ExperimentCustomer } from '../../datagen/offer-response';
import { ValidationError } from '../../lib/errors';

const DAY_MS = 86_400_000;
const DECIDED = new Date('2026-11-29T10:00:00Z');

function experiment(n: number, churnProbability: number): ExperimentCustomer[] {
  return Array.from({ length: n }, (_, i) => ({
    customerId: `C${String(i).padStart(7, '0')}`,
    arm: i % 2 === 0 ? 'treated' : 'control',
    decidedAt: DECIDED,
    churnProbability,
    spendPerOrderCents: 4000,
  }));
}

describe('simulated response to offers (datagen/offer-response.ts)', () => {
  const assumption = { horizonDays: 90, relativeChurnReduction: 0.3, seed: 42 };

  it('retains control at 1 − P(churn) and treated at 1 − P(churn) × (1 − reduction), within sampling error', () => {
    const customers = experiment(40_000, 0.6);
    const orders = simulateOfferResponse(customers, assumption);
    const returned = new Set(orders.map((o) => o.customerId));
    const rate = (arm: string) => customers.filter((c) => c.arm === arm && returned.has(c.customerId)).length / 20_000;
    // Expected 0.4 and 1 − 0.6 × 0.7 = 0.58; standard errors about 0.0035, so 4 of them is 0.014.
    expect(rate('control')).to.be.closeTo(0.4, 0.014);
    expect(rate('treated')).to.be.closeTo(0.58, 0.014);
  });

  it('places each returning customer one order strictly inside the horizon, of 80–120 % of the expected spend', () => {
    const orders = simulateOfferResponse(experiment(2_000, 0.5), assumption);
    expect(orders.length).to.be.above(0);
    for (const o of orders) {
      expect(o.orderedAt.getTime()).to.be.above(DECIDED.getTime());
      expect(o.orderedAt.getTime()).to.be.at.most(DECIDED.getTime() + 90 * DAY_MS);
      expect(o.amountCents).to.be.within(3200, 4800);
    }
    expect(new Set(orders.map((o) => o.orderId)).size).to.equal(orders.length);
  });

  it('is the same for the same seed whatever the order of the customers, and different for another seed', () => {
    const customers = experiment(500, 0.5);
    const key = (orders: ReturnType<typeof simulateOfferResponse>) =>
      orders
        .map((o) => `${o.orderId}@${o.orderedAt.toISOString()}:${o.amountCents}`)
        .sort()
        .join();
    const once = key(simulateOfferResponse(customers, assumption));
    expect(key(simulateOfferResponse([...customers].reverse(), assumption))).to.equal(once);
    expect(key(simulateOfferResponse(customers, { ...assumption, seed: 43 }))).to.not.equal(once);
  });

  it('leaves control untouched by the assumed uplift: a reduction of 0 or 1 changes only the treated', () => {
    const customers = experiment(1_000, 0.5);
    const control = (reduction: number) =>
      simulateOfferResponse(customers, { ...assumption, relativeChurnReduction: reduction })
        .filter((o) => customers.find((c) => c.customerId === o.customerId)!.arm === 'control')
        .map((o) => o.orderId);
    expect(control(0)).to.deep.equal(control(1));
    const treatedAtFull = simulateOfferResponse(customers, { ...assumption, relativeChurnReduction: 1 }).filter((o) =>
      customers.find((c) => c.customerId === o.customerId && c.arm === 'treated'),
    );
    expect(treatedAtFull.length).to.equal(500);
  });

  it('refuses a bad assumption or customer, naming the field', () => {
    expect(() => simulateOfferResponse([], { ...assumption, relativeChurnReduction: 1.5 }))
      .to.throw(ValidationError, /relativeChurnReduction/)
      .with.property('field', 'relativeChurnReduction');
    expect(() => simulateOfferResponse([{ ...experiment(1, 0.5)[0]!, churnProbability: Number.NaN }], assumption)).to.throw(
      ValidationError,
      /C0000000: churnProbability/,
    );
    expect(() => simulateOfferResponse(experiment(1, 0.5), { ...assumption, horizonDays: 0 })).to.throw(ValidationError, /horizonDays/);
  });
});
