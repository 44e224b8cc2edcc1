import { ModelError } from '../../lib/errors';

/**
 * Special functions for the buy-till-you-die likelihoods, for positive real arguments only (every
 * argument these models pass is a sum of positive parameters and non-negative counts).
 */

// Lanczos approximation with g = 7, n = 9 (Godfrey's coefficients): relative error below 1e-15 for x >= 0.5.
const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0 (NaN otherwise). */
export function lnGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  // Below 0.5 the approximation loses accuracy; Γ(x) = Γ(x + 1) / x moves the argument into its range.
  if (x < 0.5) return lnGamma(x + 1) - Math.log(x);
  const z = x - 1;
  let series = LANCZOS_COEFFICIENTS[0];
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) series += LANCZOS_COEFFICIENTS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(series);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0. */
export function lnBeta(a: number, b: number): number {
  return lnGamma(a) + lnGamma(b) - lnGamma(a + b);
}

/** The digamma function ψ(x) = d ln Γ(x) / dx, for x > 0 (NaN otherwise). */
export function digamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  // Recurrence ψ(x) = ψ(x + 1) − 1/x up to x >= 10, then the asymptotic series ln x − 1/(2x) − Σ B₂ₖ/(2k x²ᵏ)
  // (A&S 6.3.18) through x⁻¹², whose truncation error there is below 1e-15.
  let shift = 0;
  while (x < 10) {
    shift -= 1 / x;
    x += 1;
  }
  const u = 1 / (x * x);
  const tail = u * (1 / 12 - u * (1 / 120 - u * (1 / 252 - u * (1 / 240 - u * (1 / 132 - (u * 691) / 32760)))));
  return shift + Math.log(x) - 0.5 / x - tail;
}

const MAX_SERIES_TERMS = 1_000_000;

/**
 * Gauss's hypergeometric function ₂F₁(a, b; c; z) for 0 <= z < 1, by its power series (A&S 15.1.1).
 * The series converges geometrically at rate z, so the cost grows like 1 / (1 − z); callers pass
 * parameters already moved by Euler's transformation so that the terms stay small.
 */
export function hypergeometric2F1(a: number, b: number, c: number, z: number): number {
  if (!(z >= 0 && z < 1)) throw new ModelError(`hypergeometric2F1 needs 0 <= z < 1, got ${z}`);
  let term = 1;
  let sum = 1;
  for (let n = 0; n < MAX_SERIES_TERMS; n++) {
    term *= (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    sum += term;
    if (Math.abs(term) <= Number.EPSILON * 0.5 * Math.abs(sum)) return sum;
  }
  throw new ModelError(`hypergeometric2F1(${a}, ${b}; ${c}; ${z}) did not converge in ${MAX_SERIES_TERMS} terms`);
}

/** ln(e^u + e^v) without overflow. */
export function logAddExp(u: number, v: number): number {
  const high = Math.max(u, v);
  if (high === -Infinity) return -Infinity;
  return high + Math.log1p(Math.exp(Math.min(u, v) - high));
}

/** Φ⁻¹(p) by Acklam's rational approximation (relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}
