/**
 * Directions in which churn risk must move with a feature, where the direction is known from what the feature
 * means, not from data: a longer time since the last order never makes a customer less likely to churn, and more
 * orders in a recent window never make them more likely to. XGBoost enforces them (monotone_constraints), so a
 * small shop's noise cannot teach the model that a lapsed customer is safer; the other features are left free.
 */
const CHURN_DIRECTIONS: Readonly<Record<string, 1 | -1>> = {
  recency_days: 1,
  gap_overdue_ratio: 1,
  recency_gap_zscore: 1,
  days_since_last_session: 1,
  orders_30d: -1,
  orders_90d: -1,
  active_months_last_12: -1,
  sessions_30d: -1,
  sessions_90d: -1,
};

/** XGBoost's monotone_constraints value for these columns, e.g. "(1,-1,0)". */
export function monotoneConstraints(featureNames: readonly string[]): string {
  return `(${featureNames.map((name) => CHURN_DIRECTIONS[name] ?? 0).join(',')})`;
}
