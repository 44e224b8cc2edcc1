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
