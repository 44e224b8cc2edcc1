import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { ModelError } from '../../lib/errors';
import { minimizeBfgs, type StopReason } from './optimize';

/** Total (weighted) log-likelihood at positive natural parameters θ; writes ∂LL/∂θ into `gradient`. */
export type LogLikelihood = (params: readonly number[], gradient: number[]) => number;

export interface MaximumLikelihoodOptions {
  /** L2 penalty c: minimise −LL/W + c·Σθ² (W = total weight), as lifetimes' penalizer_coef does. */
  penalizer: number;
  maxIterations: number;
  /**
   * Convergence when max |∂/∂ln θ_i (−LL/W + c·Σθ²)| <= this; per-customer scale, so independent of the
   * sample size. Values much below ~1e-8 (√ machine epsilon) cannot be reached: the objective stops changing.
   */
  gradientTolerance: number;
  /**
   * Accepted instead when the objective can no longer be decreased in double precision, which happens on large
   * samples (a million customers) before gradientTolerance is reached. 1e-5 per customer in ln θ moves the
   * estimate by far less than its standard error.
   */
  stalledGradientTolerance?: number;
}

export interface Convergence {
  converged: boolean;
  reason: StopReason;
  iterations: number;
  functionEvaluations: number;
  /** Unpenalised total log-likelihood at the estimate. */
  logLikelihood: number;
  /** max |∂/∂ln θ_i| of the per-customer objective at the estimate. */
  gradientNorm: number;
}

export interface MaximumLikelihoodEstimate {
  params: number[];
  /** √diag of the covariance; null when the Hessian is not positive definite (no proper maximum). */
  standardErrors: number[] | null;
  /** Inverse of the observed information (Hessian of −LL plus the penalty) in natural parameters, or null. */
  covariance: number[][] | null;
  convergence: Convergence;
}

// Relative step for central differences of the analytic gradient: truncation error O(h²) stays far below
// the rounding noise of the summed gradient divided by h.
const HESSIAN_RELATIVE_STEP = 1e-5;

/**
 * Maximises a log-likelihood over positive parameters by BFGS on ln θ (so positivity needs no
 * constraints), then estimates standard errors from the numerical Hessian in natural parameters.
 */
export function maximizeLikelihood(
  logLikelihood: LogLikelihood,
  initialParams: readonly number[],
  totalWeight: number,
  options: MaximumLikelihoodOptions,
): MaximumLikelihoodEstimate {
  const { penalizer } = options;
  const naturalGradient = new Array<number>(initialParams.length).fill(0);
  const objective = (logParams: readonly number[], gradient: number[]): number => {
    const params = logParams.map(Math.exp);
    const ll = logLikelihood(params, naturalGradient);
    let penalty = 0;
    for (let i = 0; i < params.length; i++) {
      penalty += params[i] * params[i];
      // Chain rule: ∂/∂ln θ = θ·∂/∂θ.
      gradient[i] = (-naturalGradient[i] * params[i]) / totalWeight + 2 * penalizer * params[i] * params[i];
    }
    return -ll / totalWeight + penalizer * penalty;
  };

  const result = minimizeBfgs(objective, initialParams.map(Math.log), options);
  const params = result.x.map(Math.exp);
  const logLik = logLikelihood(params, naturalGradient);
  if (!Number.isFinite(logLik)) throw new ModelError(`log-likelihood is not finite at the estimate ${JSON.stringify(params)}`);

  const covariance = invertIfPositiveDefinite(negativeHessian(logLikelihood, params, 2 * penalizer * totalWeight));
  return {
    params,
    standardErrors: covariance ? covariance.map((row, i) => Math.sqrt(row[i])) : null,
    covariance,
    convergence: {
      converged: result.converged,
      reason: result.reason,
      iterations: result.iterations,
      functionEvaluations: result.functionEvaluations,
      logLikelihood: logLik,
      gradientNorm: result.gradientNorm,
    },
  };
}

/** −∂²LL/∂θ² by central differences of the analytic gradient, symmetrised, plus the penalty's constant curvature. */
function negativeHessian(logLikelihood: LogLikelihood, params: readonly number[], penaltyCurvature: number): number[][] {
  const n = params.length;
  const columns = params.map((theta, j) => {
    const h = HESSIAN_RELATIVE_STEP * theta;
    const up = new Array<number>(n).fill(0);
    const down = new Array<number>(n).fill(0);
    logLikelihood(
      params.map((p, i) => (i === j ? p + h : p)),
      up,
    );
    logLikelihood(
      params.map((p, i) => (i === j ? p - h : p)),
      down,
    );
    return up.map((u, i) => -(u - down[i]) / (2 * h));
  });
  return columns.map((_, i) => columns.map((__, j) => 0.5 * (columns[j][i] + columns[i][j]) + (i === j ? penaltyCurvature : 0)));
}

function invertIfPositiveDefinite(matrix: number[][]): number[][] | null {
  if (!matrix.every((row) => row.every(Number.isFinite))) return null;
  const cholesky = new CholeskyDecomposition(new Matrix(matrix));
  if (!cholesky.isPositiveDefinite()) return null;
  return cholesky.solve(Matrix.eye(matrix.length)).to2DArray();
}
