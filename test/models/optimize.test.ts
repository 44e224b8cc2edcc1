import { expect } from 'chai';
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
