import { ValidationError } from '../../lib/errors';
import { normalQuantile } from './special-functions';

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
