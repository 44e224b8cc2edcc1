/**
 * Plain-language sentences for the features that drive a churn score, e.g. "No order for 94 days, three times
 * this customer's usual gap of 31 days". A feature without a template of its own gets the generic
 * "<catalog description>: <value with unit>", so every feature the catalog gains is explained from day one.
 *
 * Templates read the customer's whole feature row, not only the driver's value, because a number means
 * little on its own: 94 days without an order is alarming for a monthly buyer and normal for a yearly one.
 */
import { FEATURE_CATALOG, type FeatureUnit } from '../../features/catalog';

/** One customer's feature values by name; NaN where the feature has no value. */
export type FeatureValues = Readonly<Record<string, number>>;

/** Called with a value that is not NaN. */
type Template = (value: number, row: FeatureValues) => string;
/**
 * What a missing value means for the feature (see the NULL conventions in models/features/catalog.ts);
 * undefined where the row cannot tell, for the generic sentence.
 */
type MissingValueSentence = (row: FeatureValues) => string | undefined;

const catalogByName = new Map(FEATURE_CATALOG.map((feature) => [feature.name, feature]));

export function driverSentence(feature: string, row: FeatureValues): string {
  const value = row[feature] ?? NaN;
  const sentence = Number.isNaN(value) ? MISSING_VALUE_SENTENCES[feature]?.(row) : TEMPLATES[feature]?.(value, row);
  return sentence ?? genericSentence(feature, value);
}

function genericSentence(feature: string, value: number): string {
  const definition = catalogByName.get(feature);
  if (definition === undefined) return `${feature}: ${Number.isNaN(value) ? 'unknown' : formatNumber(value)}`;
  return `${capitalise(definition.description)}: ${formatWithUnit(value, definition.unit)}`;
}

const TEMPLATES: Readonly<Record<string, Template>> = {
  recency_days: (days, row) => {
    const usualGap = row.gap_mean_days;
    if (!(usualGap > 0)) {
      return row.orders_lifetime === 1 ? `Only one order so far, ${formatDays(days)} ago` : `No order for ${formatDays(days)}`;
    }
    const overdue = days / usualGap;
    const opening = overdue >= 1.1 ? `No order for ${formatDays(days)}` : `Last order ${formatDays(days)} ago`;
    return `${opening}, ${comparedWithUsualGap(overdue)} this customer's usual gap of ${formatDays(usualGap)}`;
  },
  gap_overdue_ratio: (overdue, row) => {
    const gap = row.gap_mean_days;
    const gapText = gap > 0 ? ` of ${formatDays(gap)}` : '';
    return `Time since the last order is ${formatNumber(overdue)}× the usual gap between orders${gapText}`;
  },
  gap_mean_days: (gap) => `Usually orders every ${formatDays(gap)}`,
  orders_30d: (n) => countInWindow(n, 'completed order', 'completed orders', 'in the last 30 days'),
  orders_90d: (n) => countInWindow(n, 'completed order', 'completed orders', 'in the last 90 days'),
  orders_365d: (n) => countInWindow(n, 'completed order', 'completed orders', 'in the last 365 days'),
  orders_lifetime: (n) => (n === 1 ? 'Only one completed order ever' : `${formatCount(n)} completed orders in total`),
  orders_change_90d: (change) => changeSentence(change, 'completed order', 'completed orders'),
  spend_30d: (amount) => spendInWindow(amount, 'in the last 30 days'),
  spend_90d: (amount) => spendInWindow(amount, 'in the last 90 days'),
  spend_365d: (amount) => spendInWindow(amount, 'in the last 365 days'),
  spend_ratio_90d: (ratio) => {
    if (ratio === 0) return 'No spend in the last 90 days, after spending in the 90 days before';
    const percent = Math.round(Math.abs(ratio - 1) * 100);
    if (percent === 0) return 'Spend in the last 90 days about the same as in the 90 days before';
    return `Spend in the last 90 days ${ratio < 1 ? 'fell' : 'rose'} ${percent}% against the 90 days before`;
  },
  tenure_days: (days) => `First order ${formatDays(days)} ago`,
  days_since_signup: (days) => `Signed up ${formatDays(days)} ago`,
  days_since_last_session: (days) => `Last site visit ${formatDays(days)} ago`,
  sessions_30d: (n) => countInWindow(n, 'site visit', 'site visits', 'in the last 30 days'),
  sessions_90d: (n) => countInWindow(n, 'site visit', 'site visits', 'in the last 90 days'),
  sessions_change_90d: (change) => changeSentence(change, 'site visit', 'site visits'),
  returns_90d: (n) => countInWindow(n, 'return', 'returns', 'in the last 90 days'),
  active_months_last_12: (months) => `Bought in ${formatCount(months)} of the last 12 months`,
  average_order_value: (amount) => `Average order ${formatMoney(amount)}`,
  return_rate: (share) => `${formatPercent(share)} of the amount purchased was returned`,
  discount_share: (share) => `Discounts made up ${formatPercent(share)} of the list value bought`,
};

const ONLY_ONE_ORDER = 'Only one order so far, so no usual gap between orders yet';

const MISSING_VALUE_SENTENCES: Readonly<Record<string, MissingValueSentence>> = {
  gap_mean_days: () => ONLY_ONE_ORDER,
  // Also undefined when every order fell at one instant (a usual gap of 0 days).
  gap_overdue_ratio: (row) => (row.orders_lifetime === 1 ? ONLY_ONE_ORDER : undefined),
  // The ratio is undefined exactly when nothing was spent in the 90 days before.
  spend_ratio_90d: (row) =>
    row.spend_90d > 0
      ? `Spent ${formatMoney(row.spend_90d)} in the last 90 days after nothing in the 90 days before`
      : 'No spend in the last 180 days',
  days_since_signup: () => 'Signup date unknown',
  days_since_last_session: () => 'No site visits on record',
};

const MULTIPLES: Readonly<Record<number, string>> = {
  2: 'twice',
  3: 'three times',
  4: 'four times',
  5: 'five times',
  6: 'six times',
  7: 'seven times',
  8: 'eight times',
  9: 'nine times',
  10: 'ten times',
};

/** How the days since the last order compare with the usual gap, as words that precede "this customer's usual gap". */
function comparedWithUsualGap(overdue: number): string {
  if (overdue >= 1.5) {
    const multiple = Math.round(overdue);
    return MULTIPLES[multiple] ?? `${multiple} times`;
  }
  if (overdue >= 1.1) return 'a little longer than';
  if (overdue > 0.9) return 'about';
  return 'within';
}

function countInWindow(n: number, singular: string, plural: string, window: string): string {
  if (n === 0) return `No ${plural} ${window}`;
  return `${formatCount(n)} ${n === 1 ? singular : plural} ${window}`;
}

function changeSentence(change: number, singular: string, plural: string): string {
  if (change === 0) return `As many ${plural} in the last 90 days as in the 90 days before`;
  const size = Math.abs(change);
  const noun = size === 1 ? singular : plural;
  return `${formatCount(size)} ${change < 0 ? 'fewer' : 'more'} ${noun} in the last 90 days than in the 90 days before`;
}

function spendInWindow(amount: number, window: string): string {
  return amount === 0 ? `No spend ${window}` : `Spent ${formatMoney(amount)} ${window}`;
}

function formatWithUnit(value: number, unit: FeatureUnit): string {
  if (Number.isNaN(value)) return 'unknown';
  switch (unit) {
    case 'days':
      return formatDays(value);
    case 'minutes':
      return `${formatNumber(value)} minutes`;
    case 'count':
      return formatCount(value);
    case 'money':
      return formatMoney(value);
    case 'ratio':
      return formatNumber(value);
  }
}

function formatDays(days: number): string {
  const whole = Math.round(days);
  return whole === 1 ? '1 day' : `${formatInteger(whole)} days`;
}

/** Counts are whole numbers, except changes and averages that the catalog also files as counts. */
function formatCount(n: number): string {
  return Number.isInteger(n) ? formatInteger(n) : formatNumber(n);
}

// Number.prototype.toLocaleString builds a new Intl.NumberFormat on every call (~0.1 ms): scoring formats a few
// numbers per customer, so the formats are made once.
const MONEY = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** A whole number with en-US digit grouping (1,234), as Intl writes it, without Intl for the usual sizes. */
function formatInteger(n: number): string {
  if (!(Math.abs(n) < 1e15) || Object.is(n, -0)) return NUMBER.format(n);
  const digits = String(Math.abs(n));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = grouped.length; i < digits.length; i += 3) grouped += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${grouped}` : grouped;
}

/** The shop's own currency, whatever it is: the feature store sums amounts without converting them. */
function formatMoney(amount: number): string {
  return MONEY.format(amount);
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? formatInteger(value) : NUMBER.format(value);
}

function formatPercent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
