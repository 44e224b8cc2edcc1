import { expect } from 'chai';
import { mulberry32 } from '../../lib/random';
import { BetaGeoModel } from '../../models/clv/bgnbd';
import { fitBetaGeo, noPurchaseProbabilities } from '../../models/churn/no-purchase-probability';

/** A Gamma(shape, rate) draw (Marsaglia–Tsang; shape < 1 by the usual boost). */
function gamma(shape: number, rate: number, random: () => number): number {
  if (shape < 1) return gamma(shape + 1, rate, random) * Math.pow(random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    if (Math.log(random()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

/**
 * Histories (days) of customers who all drop out after a purchase with the same probability: the BG/NBD's Beta
 * heterogeneity collapses to a point, the a, b → ∞ ridge of its likelihood.
 */
function oneDropoutRate(customers: number, seed: number) {
  const random = mulberry32(seed);
  const frequency: number[] = [];
  const recency: number[] = [];
  const age: number[] = [];
  for (let i = 0; i < customers; i++) {
    const observed = 30 + random() * 670;
    const rate = gamma(0.45, 50, random);
    let [t, x, last] = [0, 0, 0];
    for (;;) {
      t += -Math.log(1 - random()) / rate;
      if (t > observed) break;
      [x, last] = [x + 1, t];
      if (random() < 0.07) break;
    }
    frequency.push(x);
    recency.push(last);
    age.push(observed);
  }
  return { frequency, recency, age };
}

describe('models/churn BG/NBD fit for P(no purchase in H)', () => {
  it('still fits when the plain fit stalls on the a, b → ∞ ridge, so the BG/NBD baseline is not lost', () => {
    const histories = oneDropoutRate(10_000, 3);
    expect(() => new BetaGeoModel().fit(histories.frequency, histories.recency, histories.age), 'the scenario').to.throw(
      /did not converge/,
    );
    const params = fitBetaGeo(histories);
    expect(Object.values(params).every((v) => Number.isFinite(v) && v > 0)).to.equal(true);
    // The population's dropout probability per purchase, a / (a + b), is the 0.07 the histories were drawn with.
    expect(params.a / (params.a + params.b)).to.be.closeTo(0.07, 0.03);
    const noPurchase = noPurchaseProbabilities(params, histories, 90);
    expect(noPurchase.every((p) => p >= 0 && p <= 1)).to.equal(true);
  });
});
