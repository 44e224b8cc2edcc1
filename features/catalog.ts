/**
 * The customer features, each declared once. `sql` is an expression over one row of the `customer_aggregates`
 * CTE built in ./sql.ts (its columns are listed there); the snapshot stores the values in this order.
 *
 * Conventions, so that every feature means the same thing at every as-of time:
 * - A purchase is an order with status 'completed'. 'cancelled' orders never were purchases; 'refunded' orders
 *   are excluded as well, because the money went back. Both are read from the order's status as stored now:
 *   the schema keeps no status history, so an order refunded after as_of drops out of earlier snapshots too.
 *   Returns (dated by returned_at) are the point-in-time record of money coming back.
 * - Money is the order amount as stored (gross of returns, net of discount), summed without currency conversion.
 * - "Last N days" is the window (as_of − N×24 h, as_of]; "prior 90 days" is (as_of − 180 d, as_of − 90 d].
 *   Days are 24-hour days, whatever the session time zone, and fractional.
 * - Counts and sums of events are 0 when there were none. Durations since an event, gaps and ratios without a
 *   defined value (no such event, a single order, a zero denominator) are NULL in Postgres and NaN in the feature
 *   matrix: XGBoost learns a default direction for missing values, which is better than inventing one.
 */

export type FeatureUnit = 'days' | 'minutes' | 'count' | 'money' | 'ratio';

export interface FeatureDefinition {
  /** snake_case, stable within a FEATURE_VERSION. */
  name: string;
  /** A plain-language noun phrase, used in driver sentences ("high <description>"). */
  description: string;
  unit: FeatureUnit;
  /** An expression over the columns of `customer_aggregates`; cast to real by the query. */
  sql: string;
}

/** Bump whenever a feature is added, removed, reordered or redefined (including the aggregates in ./sql.ts). */
export const FEATURE_VERSION = '2';

const daysSince = (column: string) => `(extract(epoch from (as_of - ${column})) / 86400)`;
const ratio = (numerator: string, denominator: string) => `(${numerator})::float8 / nullif(${denominator}, 0)`;
// The mean of the consecutive gaps telescopes to (last − first) / (n − 1), so it needs no window function.
const meanGapDays = `(extract(epoch from (last_order_at - first_order_at)) / 86400 / nullif(orders_lifetime - 1, 0))`;

export const FEATURE_CATALOG: readonly FeatureDefinition[] = [
  { name: 'recency_days', description: 'days since the last completed order', unit: 'days', sql: daysSince('last_order_at') },
  { name: 'orders_30d', description: 'completed orders in the last 30 days', unit: 'count', sql: 'orders_30d' },
  { name: 'orders_90d', description: 'completed orders in the last 90 days', unit: 'count', sql: 'orders_90d' },
  { name: 'orders_365d', description: 'completed orders in the last 365 days', unit: 'count', sql: 'orders_365d' },
  { name: 'orders_lifetime', description: 'completed orders ever', unit: 'count', sql: 'orders_lifetime' },
  { name: 'spend_30d', description: 'spend on completed orders in the last 30 days', unit: 'money', sql: 'spend_30d' },
  { name: 'spend_90d', description: 'spend on completed orders in the last 90 days', unit: 'money', sql: 'spend_90d' },
  { name: 'spend_365d', description: 'spend on completed orders in the last 365 days', unit: 'money', sql: 'spend_365d' },
  { name: 'spend_lifetime', description: 'spend on completed orders ever', unit: 'money', sql: 'spend_lifetime' },
  {
    name: 'orders_change_90d',
    description: 'change in completed orders, last 90 days against the 90 days before',
    unit: 'count',
    sql: 'orders_90d - orders_prior_90d',
  },
  {
    name: 'spend_ratio_90d',
    description: 'spend in the last 90 days relative to the 90 days before',
    unit: 'ratio',
    sql: ratio('spend_90d', 'spend_prior_90d'),
  },
  { name: 'tenure_days', description: 'days since the first completed order', unit: 'days', sql: daysSince('first_order_at') },
  { name: 'days_since_signup', description: 'days since signing up', unit: 'days', sql: daysSince('signup_at') },
  {
    name: 'gap_mean_days',
    description: 'average days between consecutive completed orders',
    unit: 'days',
    sql: meanGapDays,
  },
  {
    name: 'gap_stddev_days',
    description: 'variability of the days between consecutive completed orders',
    unit: 'days',
    sql: 'gap_stddev_days',
  },
  {
    name: 'gap_overdue_ratio',
    description: 'days since the last order relative to the usual gap between orders',
    unit: 'ratio',
    sql: ratio(daysSince('last_order_at'), meanGapDays),
  },
  {
    name: 'average_order_value',
    description: 'average amount of a completed order',
    unit: 'money',
    sql: ratio('spend_lifetime', 'orders_lifetime'),
  },
  { name: 'returns_lifetime', description: 'returns ever', unit: 'count', sql: 'returns_lifetime' },
  { name: 'returns_90d', description: 'returns in the last 90 days', unit: 'count', sql: 'returns_90d' },
  { name: 'returned_amount_lifetime', description: 'amount returned ever', unit: 'money', sql: 'returned_amount_lifetime' },
  {
    name: 'return_rate',
    description: 'share of the amount purchased that was returned',
    unit: 'ratio',
    sql: ratio('returned_amount_lifetime', 'spend_lifetime'),
  },
  {
    name: 'discount_share',
    description: 'share of the list value of completed orders given as discount',
    unit: 'ratio',
    sql: ratio('discount_lifetime', 'spend_lifetime + discount_lifetime'),
  },
  { name: 'days_since_last_session', description: 'days since the last site session', unit: 'days', sql: daysSince('last_session_at') },
  { name: 'sessions_30d', description: 'site sessions in the last 30 days', unit: 'count', sql: 'sessions_30d' },
  { name: 'sessions_90d', description: 'site sessions in the last 90 days', unit: 'count', sql: 'sessions_90d' },
  {
    name: 'sessions_change_90d',
    description: 'change in site sessions, last 90 days against the 90 days before',
    unit: 'count',
    sql: 'sessions_90d - sessions_prior_90d',
  },
  { name: 'page_views_30d', description: 'pages viewed in the last 30 days', unit: 'count', sql: 'page_views_30d' },
  { name: 'page_views_90d', description: 'pages viewed in the last 90 days', unit: 'count', sql: 'page_views_90d' },
  {
    name: 'average_session_minutes_90d',
    description: 'average length of a site session in the last 90 days',
    unit: 'minutes',
    sql: `${ratio('session_seconds_90d', 'sessions_90d')} / 60`,
  },
  {
    name: 'categories_365d',
    description: 'distinct product categories bought in the last 365 days',
    unit: 'count',
    sql: 'categories_365d',
  },
  {
    name: 'active_months_last_12',
    description: 'months with a completed order among the last twelve 30-day months',
    unit: 'count',
    sql: 'active_months_last_12',
  },
  {
    name: 'cancelled_orders_365d',
    description: 'cancelled orders in the last 365 days',
    unit: 'count',
    sql: 'cancelled_orders_365d',
  },
  {
    name: 'recency_gap_zscore',
    description: "days since the last order beyond the usual gap, in units of the customer's own gap variability",
    unit: 'ratio',
    sql: `(${daysSince('last_order_at')} - ${meanGapDays}) / nullif(gap_stddev_days, 0)`,
  },
  { name: 'orders_prior_90d', description: 'completed orders in the 90 days before the last 90', unit: 'count', sql: 'orders_prior_90d' },
  {
    name: 'orders_share_90d_of_365d',
    description: "share of the last year's completed orders placed in the last 90 days",
    unit: 'ratio',
    sql: ratio('orders_90d', 'orders_365d'),
  },
  {
    name: 'spend_share_90d_of_365d',
    description: "share of the last year's spend made in the last 90 days",
    unit: 'ratio',
    sql: ratio('spend_90d', 'spend_365d'),
  },
  { name: 'categories_lifetime', description: 'distinct product categories ever bought', unit: 'count', sql: 'categories_lifetime' },
  {
    name: 'return_rate_365d',
    description: "share of the last year's spend returned within the last year",
    unit: 'ratio',
    sql: ratio('returned_amount_365d', 'spend_365d'),
  },
  {
    name: 'orders_same_period_last_year',
    description: 'completed orders in the 90 days that followed this date a year ago',
    unit: 'count',
    // Only a customer already buying a year ago has a "same period last year"; for the others it is unknown.
    sql: `case when first_order_at <= as_of - interval '365 days' then orders_same_period_last_year end`,
  },
];

export const FEATURE_NAMES: readonly string[] = FEATURE_CATALOG.map((feature) => feature.name);
