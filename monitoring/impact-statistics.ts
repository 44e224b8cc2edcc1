/**
 * The statistics of a holdout comparison, by normal approximation: the difference of two proportions with the
 * unpooled (Wald) standard error, the difference of two means with Welch's standard error, and the per-group sample
 * size a two-sided test at α = 0.05 needs for 80 % power to detect the observed difference. Chosen over a bootstrap
 * because the groups are independent (not paired) and large enough for the central limit theorem, and the answer is
 * then exact to reproduce; with fewer than 30 customers in a group the interval is reported but marked unreliable.
 */
const Z_975 = 1.959963984540054;
const Z_80 = 0.8416212335729143;
export const MIN_GROUP_FOR_NORMAL = 30;

export interface Difference {
  /** Treated minus control. */
  estimate: number;
  lower: number;
  upper: number;
  level: 0.95;
  /** The interval excludes 0. */
  conclusive: boolean;
  /** Customers per group a test needs to detect this difference with 80 % power at α = 0.05; null for no difference. */
  sampleSizePerGroup: number | null;
  /** Either group is under MIN_GROUP_FOR_NORMAL customers: the normal approximation is rough. */
  smallSample: boolean;
}

function difference(estimate: number, se: number, n: number | null, smallSample: boolean): Difference {
  const lower = estimate - Z_975 * se;
  const upper = estimate + Z_975 * se;
  return { estimate, lower, upper, level: 0.95, conclusive: lower > 0 || upper < 0, sampleSizePerGroup: n, smallSample };
}

/** Treated rate − control rate from counts of successes out of n. */
export function proportionDifference(treated: { successes: number; n: number }, control: { successes: number; n: number }): Difference {
  const [p1, p2] = [treated.successes / treated.n, control.successes / control.n];
  const se = Math.sqrt((p1 * (1 - p1)) / treated.n + (p2 * (1 - p2)) / control.n);
  return difference(p1 - p2, se, proportionSampleSize(p1, p2), Math.min(treated.n, control.n) < MIN_GROUP_FOR_NORMAL);
}

/** Customers per group to tell p1 from p2 (two-sided α = 0.05, power 0.8; Fleiss' formula without continuity correction). */
export function proportionSampleSize(p1: number, p2: number): number | null {
  if (p1 === p2) return null;
  const pBar = (p1 + p2) / 2;
  const root = Z_975 * Math.sqrt(2 * pBar * (1 - pBar)) + Z_80 * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((root * root) / ((p1 - p2) * (p1 - p2)));
}

export interface Moments {
  n: number;
  mean: number;
  /** Sample variance (n − 1). */
  variance: number;
}

export function moments(values: readonly number[]): Moments {
  const n = values.length;
  const mean = n === 0 ? NaN : values.reduce((a, b) => a + b, 0) / n;
  const variance = n < 2 ? NaN : values.reduce((a, v) => a + (v - mean) * (v - mean), 0) / (n - 1);
  return { n, mean, variance };
}

/** Treated mean − control mean, Welch's standard error; the sample size from the average of the two variances. */
export function meanDifference(treated: Moments, control: Moments): Difference {
  const estimate = treated.mean - control.mean;
  const se = Math.sqrt(treated.variance / treated.n + control.variance / control.n);
  const variance = (treated.variance + control.variance) / 2;
  const n = estimate === 0 ? null : Math.ceil((2 * (Z_975 + Z_80) ** 2 * variance) / (estimate * estimate));
  return difference(estimate, se, n, Math.min(treated.n, control.n) < MIN_GROUP_FOR_NORMAL);
}
