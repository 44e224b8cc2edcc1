import { expect } from 'chai';
import { mulberry32 } from '../../lib/random';
import { rocAuc } from '../../models/evaluation/classification';
import { bootstrapDifference, bootstrapInterval, pick, pickLabels } from '../../models/evaluation/bootstrap';

describe('Bootstrap intervals', () => {
  const random = mulberry32(7);
  const n = 2000;
  const values = Float64Array.from({ length: n }, () => random());
  const mean = (rows: Uint32Array) => pick(values, rows).reduce((s, v) => s + v, 0) / rows.length;

  it('covers the mean of uniform(0,1) draws with about ±1.96·σ/√n (σ = 1/√12)', () => {
    const interval = bootstrapInterval(n, mean, { replicates: 400 });
    const halfWidth = 1.96 / Math.sqrt(12) / Math.sqrt(n); // 0.0127
    expect(interval.estimate).to.be.closeTo(0.5, 3 * halfWidth);
    expect(interval.upper - interval.lower).to.be.closeTo(2 * halfWidth, 0.25 * 2 * halfWidth);
    expect(interval.lower).to.be.lessThan(interval.estimate);
    expect(interval.upper).to.be.greaterThan(interval.estimate);
  });

  it('is reproducible with a seed and moves with another', () => {
    const a = bootstrapInterval(n, mean, { seed: 1 });
    expect(bootstrapInterval(n, mean, { seed: 1 })).to.deep.equal(a);
    expect(bootstrapInterval(n, mean, { seed: 2 }).lower).to.not.equal(a.lower);
  });

  it('pairs the difference of two AUCs on the same rows: narrower than either interval', () => {
    const labels = Uint8Array.from(values, (v) => (v < 0.3 ? 1 : 0));
    const good = Float64Array.from(values, (v) => -v + 0.4 * random());
    const worse = Float64Array.from(good, (s) => s + 0.3 * random());
    const auc = (scores: Float64Array) => (rows: Uint32Array) => rocAuc(pickLabels(labels, rows), pick(scores, rows));
    const difference = bootstrapDifference(n, auc(good), auc(worse), { replicates: 300 });
    const single = bootstrapInterval(n, auc(good), { replicates: 300 });
    expect(difference.estimate).to.be.greaterThan(0);
    expect(difference.lower).to.be.greaterThan(0);
    expect(difference.upper - difference.lower).to.be.lessThan(single.upper - single.lower);
  });

  it('refuses too few rows or replicates, naming the parameter', () => {
    expect(() => bootstrapInterval(1, mean)).to.throw(/rows/);
    expect(() => bootstrapInterval(n, mean, { replicates: 5 })).to.throw(/replicates/);
  });
});
