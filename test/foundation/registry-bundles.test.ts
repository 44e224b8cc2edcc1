import { expect } from 'chai';
import { mulberry32 } from '../../lib/random';
import { GbmClv } from '../../models/clv/gbm-clv';
import type { RecentTransactionHistory } from '../../models/clv/baseline';
import { ProbabilisticClv, type ClvHistory } from '../../models/clv/probabilistic-clv';
import { BehaviourEmbedding } from '../../models/embeddings/behaviour';
import { BehaviourClusters } from '../../models/segments/kmeans';
import { RfmModel } from '../../models/segments/rfm';
import { ClvServingBundle } from '../../registry/clv-serving-bundle';
import { SegmentsBundle } from '../../registry/segments-bundle';
import { expectValidationError } from '../support/expect-error';
import { syntheticCustomers } from '../support/synthetic-matrix';

/** Repeat buyers and one-timers over two years, seeded: enough for BG/NBD and Gamma-Gamma to fit. */
function history(customers: number, seed: number): ClvHistory & RecentTransactionHistory {
  const random = mulberry32(seed);
  const frequency = new Int32Array(customers);
  const recency = new Float64Array(customers);
  const age = new Float64Array(customers);
  const meanRepeatValue = new Float64Array(customers);
  const recentTransactions = new Int32Array(customers);
  const recentNetSpend = new Float64Array(customers);
  for (let i = 0; i < customers; i++) {
    age[i] = 60 + 640 * random();
    frequency[i] = Math.floor(-Math.log(1 - random()) * 3);
    recency[i] = frequency[i]! > 0 ? age[i]! * random() : 0;
    meanRepeatValue[i] = frequency[i]! > 0 ? 20 + 80 * random() : 0;
    recentTransactions[i] = Math.floor(random() * 3);
    recentNetSpend[i] = recentTransactions[i]! * (20 + 80 * random());
  }
  return {
    asOf: new Date('2026-07-01T00:00:00Z'),
    frequency,
    recency,
    age,
    meanRepeatValue,
    expectedReturnShare: new Float64Array(customers).fill(0.05),
    recentWindowDays: 365,
    recentNetSpend,
    recentTransactions,
    recentMeanTransactionValue: 60,
  };
}

/** JSON as the registry stores it: through text and back. */
const stored = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('registry bundles', () => {
  const { matrix } = syntheticCustomers(7, { perGroup: 60, categoryMix: true });
  // As many customers as the matrix (another order, which is fine for a round trip): a blend adds their forecasts.
  const clvHistory = history(matrix.nrow, 3);

  const horizon = { horizonDays: 365 };

  it('round-trips the CLV serving bundle, whichever model serves, and predicts the same with the same intervals', () => {
    const probabilistic = new ProbabilisticClv({ horizonMonths: 12 }).fit(clvHistory);
    const spend = matrix.featureNames.indexOf('spend_365d');
    const target = Array.from({ length: matrix.nrow }, (_, i) => matrix.X[i * matrix.ncol + spend]! / 2);
    const gbm = new GbmClv({ horizonDays: 365, maxRounds: 20 }).fit(matrix, target);
    const bundles = [
      new ClvServingBundle('baseline', probabilistic, null, horizon),
      new ClvServingBundle('probabilistic', probabilistic, null, horizon),
      new ClvServingBundle('gbm', probabilistic, gbm, horizon),
      new ClvServingBundle('blend', probabilistic, gbm, {
        ...horizon,
        blendWeights: { baseline: 0.2, probabilistic: 0.5, gbm: 0.3 },
        fallback: { from: 'probabilistic', reason: 'test' },
      }),
    ];
    for (const bundle of bundles) {
      const json = bundle.toJSON();
      const restored = ClvServingBundle.fromJSON(stored(json));
      try {
        expect(restored.serving).to.equal(bundle.serving);
        expect(restored.toJSON()).to.deep.equal(stored(json));
        const [before, after] = [bundle, restored].map((b) => b.predict(clvHistory, matrix));
        expect(Array.from(after!.expectedNetRevenue)).to.deep.equal(Array.from(before!.expectedNetRevenue));
        expect(Array.from(after!.interval.lower)).to.deep.equal(Array.from(before!.interval.lower));
        expect(Array.from(after!.interval.upper)).to.deep.equal(Array.from(before!.interval.upper));
        expect(Array.from(after!.probabilistic!.pAlive)).to.deep.equal(Array.from(before!.probabilistic!.pAlive));
        expect(after!.coverage).to.deep.equal(before!.coverage);
        expect(after!.coverage.model).to.equal(bundle.serving);
      } finally {
        restored.dispose();
      }
    }
    // The GBM's forecast is what a GBM-serving bundle gives as net revenue (history and matrix are not the same customers).
    expect(Array.from(bundles[2]!.predict(clvHistory, matrix).expectedNetRevenue)).to.deep.equal(Array.from(gbm.predict(matrix)));
    gbm.dispose();
  });

  it("reads a bundle written before the bake-off (no horizon, weights or fallback) with the registry entry's horizon", () => {
    const probabilistic = new ProbabilisticClv({ horizonMonths: 12 }).fit(clvHistory);
    const legacy = { serving: 'probabilistic', probabilistic: probabilistic.toJSON(), gbm: null };
    const bundle = ClvServingBundle.fromJSON(stored(legacy), 365);
    expect(bundle.toJSON()).to.deep.equal({ ...(stored(legacy) as object), horizonDays: 365, blendWeights: null, fallback: null });
    expect(Array.from(bundle.predict(clvHistory, matrix).expectedNetRevenue)).to.deep.equal(
      Array.from(probabilistic.predict(clvHistory).expectedNetRevenue),
    );
    expectValidationError(() => ClvServingBundle.fromJSON(stored(legacy)), 'horizonDays');
  });

  it('refuses a malformed CLV serving bundle, naming the field', () => {
    const probabilistic = new ProbabilisticClv({ horizonMonths: 12 }).fit(clvHistory).toJSON();
    expectValidationError(() => ClvServingBundle.fromJSON({ probabilistic, gbm: null }), 'serving');
    expectValidationError(() => ClvServingBundle.fromJSON({ serving: 'forest', probabilistic, gbm: null }), 'serving');
    expectValidationError(() => ClvServingBundle.fromJSON({ serving: 'gbm', probabilistic, gbm: null }), 'gbm');
    expectValidationError(() => ClvServingBundle.fromJSON({ serving: 'probabilistic', gbm: null }), 'probabilistic');
    expectValidationError(() => ClvServingBundle.fromJSON({ serving: 'probabilistic', probabilistic: null, gbm: null }), 'probabilistic');
    expectValidationError(
      () => ClvServingBundle.fromJSON({ serving: 'blend', horizonDays: 365, probabilistic, gbm: null }),
      'blendWeights',
    );
    expectValidationError(
      () =>
        ClvServingBundle.fromJSON({
          serving: 'blend',
          horizonDays: 365,
          probabilistic,
          gbm: null,
          blendWeights: { gbm: 0.5, baseline: 0.5 },
        }),
      'gbm',
    );
    expectValidationError(
      () => ClvServingBundle.fromJSON({ serving: 'blend', horizonDays: 365, probabilistic, gbm: null, blendWeights: { forest: 1 } }),
      'blendWeights.forest',
    );
    expectValidationError(
      () => ClvServingBundle.fromJSON({ serving: 'baseline', horizonDays: -1, probabilistic, gbm: null }),
      'horizonDays',
    );
    expectValidationError(
      () => ClvServingBundle.fromJSON({ serving: 'probabilistic', probabilistic: { alpha: 1 }, gbm: null }),
      'probabilistic',
    );
    expectValidationError(() => ClvServingBundle.fromJSON({ serving: 'gbm', probabilistic, gbm: { trees: [] } }), 'gbm');
    expectValidationError(() => ClvServingBundle.fromJSON({ serving: 'probabilistic', probabilistic, gbm: null, extra: 1 }), 'artifact');
    expectValidationError(() => ClvServingBundle.fromJSON('not a bundle'), 'artifact');
  });

  it('round-trips the segments bundle and assigns the same segments, clusters and embeddings', () => {
    const bundle = new SegmentsBundle(
      new RfmModel().fit(matrix),
      new BehaviourClusters({ seed: 5 }).fit(matrix),
      new BehaviourEmbedding().fit(matrix),
    );
    const json = bundle.toJSON();
    const restored = SegmentsBundle.fromJSON(stored(json));
    expect(restored.toJSON()).to.deep.equal(stored(json));
    expect(restored.rfm.predict(matrix)).to.deep.equal(bundle.rfm.predict(matrix));
    expect(Array.from(restored.clusters.predict(matrix))).to.deep.equal(Array.from(bundle.clusters.predict(matrix)));
    expect(Array.from(restored.embedding.transform(matrix))).to.deep.equal(Array.from(bundle.embedding.transform(matrix)));

    expectValidationError(() => SegmentsBundle.fromJSON({ rfm: json.rfm, clusters: json.clusters }), 'embedding');
    expectValidationError(() => SegmentsBundle.fromJSON({ ...(stored(json) as object), rfm: 'cuts' }), 'rfm');
    expectValidationError(() => SegmentsBundle.fromJSON({ ...(stored(json) as object), clusters: { centroids: [] } }), 'clusters');
  });
});
