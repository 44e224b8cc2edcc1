import { expect } from 'chai';
import { mulberry32 } from '../../lib/random';
import { runBakeOff } from '../../models/churn/bake-off';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** A standard normal draw (Box–Muller). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

describe('models/churn bake-off: the serving rule', () => {
  it('never serves a rule below the best baseline, even when it is tied with the best by a wide interval', () => {
    // XGBoost is best; BG/NBD nearly equals it (the same scores, a little noise: a narrow paired interval); the
    // recency rule is a little worse but noisy on its own, so the best does not beat it beyond the interval either.
    const random = mulberry32(8);
    const n = 3000;
    const labels = new Uint8Array(n);
    const xgboost = new Float64Array(n);
    const bgnbd = new Float64Array(n);
    const recency = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = random() < 0.5 ? 1 : 0;
      const score = labels[i] + normal(random);
      xgboost[i] = sigmoid(score);
      bgnbd[i] = sigmoid(score + 0.05 * normal(random));
      recency[i] = sigmoid(labels[i] + 1.05 * normal(random));
    }
    const result = runBakeOff(
      labels,
      [
        { name: 'recency', probabilities: recency },
        { name: 'bgnbd', probabilities: bgnbd },
        { name: 'xgboost', probabilities: xgboost },
      ],
      { replicates: 200 },
    );
    const auc = (name: string) => result.candidates.find((c) => c.name === name)!.rocAuc.estimate;
    expect(result.bestBaseline).to.equal('bgnbd');
    expect(auc('recency')).to.be.below(auc('bgnbd'));
    expect(result.tiedWithBest, 'the scenario: recency is tied with the best').to.include('recency');

    expect(auc(result.served)).to.be.at.least(auc(result.bestBaseline));
    expect(result.marginOverBestBaseline.estimate).to.be.at.least(0);
    expect(result.served).to.equal(result.tiedWithBest.includes('bgnbd') ? 'bgnbd' : 'xgboost');
    expect(result.reason).to.include('below the best baseline');

    // The served candidate's cumulative gains, stored with the model for the console's lift chart: every decile, the
    // top 20% agreeing with the bake-off's own capture metric, and the whole list finding every churner.
    const served = result.candidates.find((c) => c.name === result.served)!;
    expect(result.gains.map((g) => g.fraction)).to.deep.equal([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(result.gains[1].capture).to.be.closeTo(served.captureTop20.estimate, 1e-9);
    expect(result.gains.at(-1)).to.deep.include({ rows: n, capture: 1, lift: 1 });
    for (let i = 1; i < result.gains.length; i++) expect(result.gains[i].capture).to.be.at.least(result.gains[i - 1].capture);
  });
});
