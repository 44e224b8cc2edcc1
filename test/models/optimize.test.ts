import { expect } from 'chai';
import { GammaGammaModel } from '../../models/clv/gamma-gamma';
import { minimizeBfgs } from '../../models/clv/optimize';

describe('BFGS at the limit of floating-point precision', () => {
  // f is rounded to float32, so near the minimum no step can decrease it although the exact gradient is not zero:
  // the situation of a likelihood summed over a million customers.
  const objective = (x: readonly number[], gradient: number[]) => {
    gradient[0] = Math.exp(x[0]!) - 2;
    return Math.fround(Math.exp(x[0]!) - 2 * x[0]!);
  };

  it('reports a stalled line search as not converged when the gradient is not small enough', () => {
    const result = minimizeBfgs(objective, [2], { gradientTolerance: 1e-12, maxIterations: 200 });
    expect(result).to.include({ reason: 'line-search-failed', converged: false });
  });

  it('accepts the stalled point as converged (precision-limit) when its gradient is within the stalled tolerance', () => {
    const result = minimizeBfgs(objective, [2], { gradientTolerance: 1e-12, stalledGradientTolerance: 1e-2, maxIterations: 200 });
    expect(result).to.include({ reason: 'precision-limit', converged: true });
    expect(Math.abs(result.x[0]! - Math.LN2)).to.be.lessThan(5e-3);
  });
});

describe('a fit that converged at the precision limit', () => {
  it('round-trips through toJSON/fromJSON', () => {
    const model = new GammaGammaModel({ gradientTolerance: 1e-15, stalledGradientTolerance: 1e-2 });
    const frequency = [1, 2, 3, 4, 5, 2, 3, 1, 6, 2];
    const value = [20, 35, 18, 50, 42, 27, 31, 60, 25, 22];
    model.fit(frequency, value);
    expect(model.fitState.convergence?.reason).to.equal('precision-limit');
    const copy = GammaGammaModel.fromJSON(model.toJSON());
    expect(copy.conditionalExpectedAverageValue(3, 30)).to.equal(model.conditionalExpectedAverageValue(3, 30));
  });
});
