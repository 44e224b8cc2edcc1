import { expect } from 'chai';
import { ModelError } from '../../lib/errors';
import { BetaGeoModel } from '../../models/clv/bgnbd';
import { betaGeoLogLikelihood } from '../../models/clv/bgnbd-likelihood';
import { gammaGammaLogLikelihood } from '../../models/clv/gamma-gamma-likelihood';
import { maximizeLikelihood, type LogLikelihood } from '../../models/clv/maximum-likelihood';
import { minimizeBfgs } from '../../models/clv/optimize';
import { quantilesByCustomer } from '../../models/clv/parameter-sampling';
import { mulberry32 } from '../../lib/random';
import { digamma, hypergeometric2F1, lnBeta, lnGamma, logAddExp } from '../../models/clv/special-functions';

function expectClose(actual: number, expected: number, tolerance: { rel?: number; abs?: number }, label = ''): void {
  const allowed = Math.max((tolerance.rel ?? 0) * Math.abs(expected), tolerance.abs ?? 0);
  expect(Math.abs(actual - expected), `${label} ${actual} vs ${expected}`).to.be.at.most(allowed);
}

/** Central-difference gradient of a log-likelihood, to check the analytic one. */
function numericGradient(logLikelihood: LogLikelihood, params: number[]): number[] {
  const scratch = params.map(() => 0);
  return params.map((theta, j) => {
    const h = 1e-6 * theta;
    const at = (delta: number) =>
      logLikelihood(
        params.map((p, i) => (i === j ? p + delta : p)),
        scratch,
      );
    return (at(h) - at(-h)) / (2 * h);
  });
}

describe('CLV numerics', () => {
  describe('special functions', () => {
    it('lnGamma matches known values across its range', () => {
      expectClose(lnGamma(0.5), 0.5 * Math.log(Math.PI), { rel: 1e-15 });
      expectClose(lnGamma(1), 0, { abs: 1e-15 });
      expectClose(lnGamma(2), 0, { abs: 1e-15 });
      expectClose(lnGamma(0.1), 2.252712651734206, { rel: 1e-14 });
      expectClose(lnGamma(1e-8), 18.42068073818021, { rel: 1e-14 });
      expectClose(lnGamma(10), Math.log(362880), { rel: 1e-15 });
      expectClose(lnGamma(100), 359.1342053695754, { rel: 1e-14 });
      expect(Number.isNaN(lnGamma(0))).to.equal(true);
      expectClose(lnBeta(2, 3), Math.log(1 / 12), { rel: 1e-14 });
    });

    it('digamma matches known values and the derivative of lnGamma', () => {
      expectClose(digamma(1), -0.5772156649015329, { rel: 1e-14 });
      expectClose(digamma(0.5), -1.9635100260214235, { rel: 1e-14 });
      expectClose(digamma(10), 2.251752589066721, { rel: 1e-14 });
      expectClose(digamma(0.01), -100.5608854578687, { rel: 1e-14 });
      for (const x of [0.3, 2.7, 45]) expectClose(digamma(x), (lnGamma(x + 1e-5) - lnGamma(x - 1e-5)) / 2e-5, { rel: 1e-7 }, `x=${x}`);
    });

    it('hypergeometric2F1 matches closed forms up to z close to 1', () => {
      for (const z of [0, 0.3, 0.9, 0.99]) {
        expectClose(hypergeometric2F1(1, 1, 2, z), z === 0 ? 1 : -Math.log(1 - z) / z, { rel: 1e-13 }, `z=${z}`);
        expectClose(hypergeometric2F1(0.7, 2.5, 2.5, z), Math.pow(1 - z, -0.7), { rel: 1e-13 }, `z=${z}`);
      }
      expect(() => hypergeometric2F1(1, 1, 2, 1)).to.throw(ModelError);
    });

    it('logAddExp does not overflow', () => {
      expectClose(logAddExp(1000, 1000), 1000 + Math.log(2), { rel: 1e-15 });
      expect(logAddExp(-Infinity, -Infinity)).to.equal(-Infinity);
    });
  });

  describe('minimizeBfgs', () => {
    const rosenbrock = (x: readonly number[], gradient: number[]) => {
      gradient[0] = -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] * x[0]);
      gradient[1] = 200 * (x[1] - x[0] * x[0]);
      return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] * x[0]) ** 2;
    };

    it('finds the Rosenbrock minimum and reports how', () => {
      const result = minimizeBfgs(rosenbrock, [-1.2, 1], { gradientTolerance: 1e-9, maxIterations: 200 });
      expect(result.converged).to.equal(true);
      expect(result.reason).to.equal('gradient-tolerance');
      expectClose(result.x[0], 1, { abs: 1e-6 });
      expectClose(result.x[1], 1, { abs: 1e-6 });
      expect(result.iterations).to.be.within(10, 100);
      expect(result.functionEvaluations).to.be.at.least(result.iterations);
    });

    it('says so when it runs out of iterations', () => {
      const result = minimizeBfgs(rosenbrock, [-1.2, 1], { gradientTolerance: 1e-9, maxIterations: 3 });
      expect(result).to.include({ converged: false, reason: 'max-iterations', iterations: 3 });
    });

    it('refuses a starting point where the objective is not finite', () => {
      expect(() => minimizeBfgs(() => Number.NaN, [0], { gradientTolerance: 1e-6, maxIterations: 10 })).to.throw(ModelError);
    });
  });

  describe('maximizeLikelihood', () => {
    it('recovers the Poisson MLE and its standard error √(λ/n)', () => {
      const counts = [0, 3, 1, 4, 2, 2, 5, 1, 0, 2];
      const sum = counts.reduce((s, k) => s + k, 0);
      const poisson: LogLikelihood = ([lambda], gradient) => {
        gradient[0] = sum / lambda - counts.length;
        return sum * Math.log(lambda) - counts.length * lambda;
      };
      const estimate = maximizeLikelihood(poisson, [10], counts.length, { penalizer: 0, maxIterations: 100, gradientTolerance: 1e-7 });
      const mean = sum / counts.length;
      expectClose(estimate.params[0], mean, { rel: 1e-6 });
      expectClose(estimate.standardErrors![0], Math.sqrt(mean / counts.length), { rel: 1e-6 });
      expect(estimate.convergence.converged).to.equal(true);
    });
  });

  describe('likelihood gradients', () => {
    // Includes a heavy buyer (x = 150) whose likelihood terms would overflow outside log space.
    const histories = {
      frequency: [0, 1, 2, 7, 26, 150],
      recency: [0, 1.7, 30.4, 12, 30.9, 38],
      age: [38.9, 38.9, 38.9, 39, 31, 38.5],
      weights: [3, 1, 2, 1, 1, 1],
    };

    it('BG/NBD analytic gradient matches central differences', () => {
      const logLikelihood = betaGeoLogLikelihood(histories);
      for (const params of [
        [0.243, 4.414, 0.793, 2.426],
        [2.5, 0.3, 3, 0.6],
      ]) {
        const gradient = [0, 0, 0, 0];
        expect(Number.isFinite(logLikelihood(params, gradient))).to.equal(true);
        numericGradient(logLikelihood, params).forEach((g, i) => expectClose(gradient[i], g, { rel: 1e-6, abs: 1e-7 }, `∂/∂θ${i}`));
      }
    });

    it('Gamma-Gamma analytic gradient matches central differences', () => {
      const logLikelihood = gammaGammaLogLikelihood({
        frequency: [1, 2, 5, 40],
        meanValue: [11.77, 22.35, 73.74, 30],
        weights: [4, 1, 1, 2],
      });
      const params = [6.25, 3.74, 15.44];
      const gradient = [0, 0, 0];
      logLikelihood(params, gradient);
      numericGradient(logLikelihood, params).forEach((g, i) => expectClose(gradient[i], g, { rel: 1e-6, abs: 1e-7 }, `∂/∂θ${i}`));
    });

    it('BG/NBD predictions stay finite for very frequent buyers', () => {
      const model = BetaGeoModel.fromParams({ r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 });
      const alive = model.probabilityAlive(500, 1, 39);
      expect(alive).to.be.at.least(0).and.below(1e-100);
      expect(model.conditionalExpectedTransactions(52, 500, 38.9, 39)).to.be.within(100, 2000);
    });
  });

  describe('quantilesByCustomer', () => {
    /** The interpolated quantile of the sorted values: the definition the selection must reproduce. */
    const sortedQuantile = (values: number[], q: number) => {
      const sorted = Float64Array.from(values).sort();
      const position = q * (sorted.length - 1);
      const below = Math.floor(position);
      const above = Math.min(sorted.length - 1, below + 1);
      return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
    };

    it('gives each customer the interpolated quantiles of their sorted draws, ties and few draws included', () => {
      const random = mulberry32(5);
      const tail = (1 - 0.9) / 2;
      for (const draws of [20, 21, 100, 137]) {
        const customers = 300;
        // Whole numbers for half the customers, so many draws tie.
        const forecast = (k: number) => (k % 2 === 0 ? Math.floor(random() * 6) : 1000 * random() ** 3);
        const table = Array.from({ length: customers }, (_, k) => Array.from({ length: draws }, () => forecast(k)));
        const point = new Float64Array(customers).fill(Infinity);
        point.fill(-Infinity, 0, customers / 2);
        const { lower, upper } = quantilesByCustomer(point, 0.9, draws, (from, to, out, stride) => {
          for (let k = from; k < to; k++) for (let d = 0; d < draws; d++) out[d * stride + k - from] = table[k]![d]!;
        });
        table.forEach((values, k) => {
          // A point of -∞ leaves the upper bound alone, +∞ the lower.
          if (k < customers / 2) expect(upper[k], `draws ${draws}, customer ${k}`).to.equal(sortedQuantile(values, 1 - tail));
          else expect(lower[k], `draws ${draws}, customer ${k}`).to.equal(sortedQuantile(values, tail));
        });
      }
    });
  });
});
