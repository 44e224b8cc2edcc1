import { ValidationError } from '../../lib/errors';

/** What the baseline reads of a customer summary (a ClvSummary fits). */
export interface RecentSpendHistory {
  recentWindowDays: number;
  /** Purchases minus returns in the recent window, per customer. */
  recentNetSpend: ArrayLike<number>;
}

/**
 * The historical-average baseline of CLV, "the next period looks like the last one": a customer's net spend
 * (purchases minus returns) over the recent window, usually the last 365 days, as a daily rate × the horizon in
 * days. A customer younger than the window has a shorter record, which the rate spreads over the whole window, as
 * if the rest of it had been quiet. A window in which returns outweighed purchases forecasts 0, not a negative value.
 * It is the yardstick the CLV models must beat, not a model to serve.
 */
export function historicalAverageClv(history: RecentSpendHistory, horizonDays: number): Float64Array {
  if (!(Number.isFinite(horizonDays) && horizonDays > 0)) {
    throw new ValidationError(`horizonDays must be a positive number of days, got ${horizonDays}`, 'horizonDays');
  }
  const scale = horizonDays / history.recentWindowDays;
  return Float64Array.from(history.recentNetSpend, (spend) => Math.max(0, spend) * scale);
}

/**
 * What the baseline's interval reads besides the spend: how many transactions the recent window's spend came from,
 * and the population's mean net spend per recent transaction (Σ max(0, spend) ÷ Σ transactions over the whole
 * population, not over the customers at hand: a customer's interval must not depend on the batch they are scored in).
 */
export interface RecentTransactionHistory extends RecentSpendHistory {
  recentTransactions: ArrayLike<number>;
  recentMeanTransactionValue: number;
}

/**
 * A per-customer interval around the historical average, from the Poisson uncertainty of the customer's own purchase
 * rate: with k transactions in the window, the exact (Garwood) interval of the expected count is [G⁻¹(α/2; k),
 * G⁻¹(1 − α/2; k + 1)] (G the unit-scale gamma distribution), times the customer's mean net spend per transaction,
 * scaled to the horizon. A customer with no transaction in the window (forecast 0) gets [0, G⁻¹(1 − α/2; 1) × the
 * population's mean net spend per transaction] (history.recentMeanTransactionValue). Gamma quantiles by the Wilson–Hilferty approximation (exact for shape
 * 1), within about 1 % of the exact values for the shapes used here.
 */
export function historicalAverageInterval(
  history: RecentTransactionHistory,
  horizonDays: number,
  level: number,
): { lower: Float64Array; upper: Float64Array } {
  const point = historicalAverageClv(history, horizonDays);
  const scale = horizonDays / history.recentWindowDays;
  const n = point.length;
  const populationMeanValue = history.recentMeanTransactionValue;
  if (!(Number.isFinite(populationMeanValue) && populationMeanValue >= 0)) {
    throw new ValidationError(
      `recentMeanTransactionValue must be a non-negative number, got ${populationMeanValue}`,
      'recentMeanTransactionValue',
    );
  }
  const tail = (1 - level) / 2;
  const lower = new Float64Array(n);
  const upper = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = history.recentTransactions[i];
    if (k === 0) {
      upper[i] = gammaQuantile(1 - tail, 1) * populationMeanValue * scale;
      continue;
    }
    const meanValue = Math.max(0, history.recentNetSpend[i]) / k;
    lower[i] = Math.min(point[i], gammaQuantile(tail, k) * meanValue * scale);
    upper[i] = Math.max(point[i], gammaQuantile(1 - tail, k + 1) * meanValue * scale);
  }
  return { lower, upper };
}

/** The p-quantile of Gamma(shape, 1): exact for shape 1, Wilson–Hilferty otherwise. */
function gammaQuantile(p: number, shape: number): number {
  if (shape === 1) return -Math.log(1 - p);
  const z = normalQuantile(p);
  const cube = 1 - 1 / (9 * shape) + z / (3 * Math.sqrt(shape));
  return Math.max(0, shape * cube * cube * cube);
}

/** Φ⁻¹(p) by Acklam's rational approximation (relative error below 1.2e-9). */
function normalQuantile(p: number): number {
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
