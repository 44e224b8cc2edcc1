import { ModelError } from '../../lib/errors';

/**
 * Quasi-Newton minimisation (BFGS) for the small, smooth, unconstrained problems of the CLV models
 * (3–4 log-parameters).
 *
 * Why not the installed `fmin` package: its package.json declares "type": "module" but ships a UMD
 * bundle, so `require('fmin')` from compiled CommonJS returns an empty object (it only works under a
 * transpiling loader such as tsx); its Nelder–Mead reduction step assigns an undeclared `i` in strict
 * mode (a ReferenceError when reached); and neither routine reports iterations or whether it converged.
 */

/** Returns f(x) and writes ∇f(x) into `gradient` (same length as x). */
export type ObjectiveWithGradient = (x: readonly number[], gradient: number[]) => number;

export interface MinimizeOptions {
  /** Stop (converged) once max |∂f/∂x_i| falls to this. */
  gradientTolerance: number;
  /**
   * When no step decreases f any more (its rounding noise, which grows with the number of summed terms, hides the
   * remaining decrease), the point still counts as converged if max |∂f/∂x_i| is at most this. Default: gradientTolerance.
   */
  stalledGradientTolerance?: number;
  maxIterations: number;
}

export type StopReason = 'gradient-tolerance' | 'precision-limit' | 'max-iterations' | 'line-search-failed';

export interface MinimizeResult {
  x: number[];
  value: number;
  gradient: number[];
  /** max |∂f/∂x_i| at x. */
  gradientNorm: number;
  iterations: number;
  functionEvaluations: number;
  converged: boolean;
  reason: StopReason;
}

// Armijo sufficient-decrease constant and backtracking limits (Nocedal & Wright, Numerical Optimization, §3.1).
const ARMIJO_C1 = 1e-4;
const MAX_BACKTRACKS = 60;

/** BFGS with the inverse-Hessian update (Nocedal & Wright eq. 6.17) and a backtracking Armijo line search. */
export function minimizeBfgs(objective: ObjectiveWithGradient, x0: readonly number[], options: MinimizeOptions): MinimizeResult {
  const n = x0.length;
  let functionEvaluations = 0;
  const evaluate = (x: readonly number[], gradient: number[]): number => {
    functionEvaluations++;
    return objective(x, gradient);
  };

  let x = x0.slice();
  let gradient = new Array<number>(n).fill(0);
  let value = evaluate(x, gradient);
  if (!Number.isFinite(value) || !gradient.every(Number.isFinite)) {
    throw new ModelError(`objective is not finite at the starting point ${JSON.stringify(x0)}`);
  }
  let inverseHessian = identity(n);
  let hessianIsIdentity = true;

  const result = (iterations: number, reason: StopReason): MinimizeResult => ({
    x,
    value,
    gradient,
    gradientNorm: maxAbs(gradient),
    iterations,
    functionEvaluations,
    converged: reason === 'gradient-tolerance' || reason === 'precision-limit',
    reason,
  });

  for (let iteration = 0; iteration < options.maxIterations; iteration++) {
    if (maxAbs(gradient) <= options.gradientTolerance) return result(iteration, 'gradient-tolerance');

    let direction = multiply(inverseHessian, gradient).map((v) => -v);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // The curvature model stopped pointing downhill: restart from steepest descent.
      inverseHessian = identity(n);
      hessianIsIdentity = true;
      direction = gradient.map((v) => -v);
      slope = -dot(gradient, gradient);
    }
    // The first steepest-descent step has no curvature information; cap it at unit length.
    let step = hessianIsIdentity ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;

    const trialGradient = new Array<number>(n).fill(0);
    let trial: number[] = [];
    let trialValue = Number.NaN;
    let accepted = false;
    for (let backtrack = 0; backtrack < MAX_BACKTRACKS; backtrack++) {
      trial = x.map((xi, i) => xi + step * direction[i]);
      trialValue = evaluate(trial, trialGradient);
      // Require a strict decrease too: near the optimum, value + c1·step·slope can round to value itself,
      // and accepting equal values would let the search creep along without progress.
      const sufficientDecrease = trialValue <= value + ARMIJO_C1 * step * slope && trialValue < value;
      if (sufficientDecrease && trialGradient.every(Number.isFinite)) {
        accepted = true;
        break;
      }
      // Minimiser of the quadratic through f(0), f'(0) and f(step), kept within [0.1, 0.5] of the step.
      const quadratic = Number.isFinite(trialValue) ? (-slope * step * step) / (2 * (trialValue - value - slope * step)) : 0;
      step = Math.min(0.5 * step, Math.max(0.1 * step, quadratic));
    }
    if (!accepted) {
      if (hessianIsIdentity) {
        const stalledTolerance = options.stalledGradientTolerance ?? options.gradientTolerance;
        return result(iteration, maxAbs(gradient) <= stalledTolerance ? 'precision-limit' : 'line-search-failed');
      }
      inverseHessian = identity(n);
      hessianIsIdentity = true;
      continue;
    }

    const s = trial.map((ti, i) => ti - x[i]);
    const y = trialGradient.map((gi, i) => gi - gradient[i]);
    const sy = dot(s, y);
    x = trial;
    value = trialValue;
    gradient = trialGradient.slice();
    // Skip the update unless the curvature condition s·y > 0 holds, which keeps the inverse Hessian positive definite.
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (hessianIsIdentity) {
        // Scale the initial matrix to the observed curvature before the first update (Nocedal & Wright eq. 6.20).
        inverseHessian = scale(identity(n), sy / dot(y, y));
        hessianIsIdentity = false;
      }
      inverseHessian = bfgsInverseUpdate(inverseHessian, s, y, sy);
    }
  }
  return maxAbs(gradient) <= options.gradientTolerance
    ? result(options.maxIterations, 'gradient-tolerance')
    : result(options.maxIterations, 'max-iterations');
}

/** H⁺ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ with ρ = 1 / yᵀs (Nocedal & Wright eq. 6.17), expanded. */
function bfgsInverseUpdate(h: number[][], s: number[], y: number[], sy: number): number[][] {
  const rho = 1 / sy;
  const hy = multiply(h, y);
  const yhy = dot(y, hy);
  return h.map((row, i) => row.map((hij, j) => hij - rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j]));
}

function identity(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

function scale(m: number[][], factor: number): number[][] {
  return m.map((row) => row.map((v) => v * factor));
}

function multiply(m: number[][], v: readonly number[]): number[] {
  return m.map((row) => dot(row, v));
}

function dot(u: readonly number[], v: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < u.length; i++) sum += u[i] * v[i];
  return sum;
}

function maxAbs(v: readonly number[]): number {
  return v.reduce((m, vi) => Math.max(m, Math.abs(vi)), 0);
}
