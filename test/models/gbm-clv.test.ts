import { expect } from 'chai';
import { mulberry32 } from '../../lib/random';
import { GbmClv, HISTOGRAM_FROM_ROWS } from '../../models/clv/gbm-clv';

/** Seeded rows whose net revenue grows with the first two features, zero for about half the customers. */
function rows(nrow: number) {
  const random = mulberry32(11);
  const ncol = 4;
  const X = new Float32Array(nrow * ncol).map(() => random() * 10);
  const netRevenue = Float64Array.from({ length: nrow }, (_, i) =>
    random() < 0.5 ? 0 : X[i * ncol]! * 20 + X[i * ncol + 1]! * 5 + random() * 30,
  );
  return { features: { featureNames: ['a', 'b', 'c', 'd'], X, nrow, ncol }, netRevenue };
}

function predictions(nrow: number, params: Record<string, string> = {}): number[] {
  const { features, netRevenue } = rows(nrow);
  const model = new GbmClv({ horizonDays: 365, maxRounds: 40, params }).fit(features, netRevenue);
  try {
    return [...model.predict(features)].slice(0, 200);
  } finally {
    model.dispose();
  }
}

describe('models/clv GbmClv split search', () => {
  it(`searches splits on histograms from ${HISTOGRAM_FROM_ROWS.toLocaleString('en-US')} training rows on`, () => {
    const nrow = Math.ceil((HISTOGRAM_FROM_ROWS * 5) / 4) + 10; // a fifth is held out for early stopping
    expect(predictions(nrow)).to.deep.equal(predictions(nrow, { tree_method: 'hist' }));
    expect(predictions(nrow)).not.to.deep.equal(predictions(nrow, { tree_method: 'exact' }));
  });

  it('keeps the exact greedy search below that, and a tree_method given in params wins', () => {
    expect(predictions(5_000)).to.deep.equal(predictions(5_000, { tree_method: 'exact' }));
    expect(predictions(5_000, { tree_method: 'hist' })).not.to.deep.equal(predictions(5_000, { tree_method: 'exact' }));
  });
});
