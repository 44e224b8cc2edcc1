import { ValidationError } from '../lib/errors';
import { FEATURE_CATALOG } from './catalog';
import { andInTrainingSample, sampleBindings, TRAINING_SAMPLE_CTE, type TrainingSample } from './training-sample';

/**
 * The one SQL statement that computes every catalog feature for every customer of a population, as of a time.
 * Point in time: every event table is read through `<= as_of` (orders, items through their order, returns,
 * sessions), and signup_at counts only when it is at or before as_of, so rows written later cannot change the
 * result. One grouped pass per event table (orders once more, joined to their items), joined on customer_id.
 *
 * Columns of `customer_aggregates`, the CTE that catalog expressions read:
 *   as_of, signup_at, first_order_at, last_order_at, last_session_at      timestamptz, NULL when no such event
 *   orders_{30d,90d,prior_90d,365d,lifetime}, spend_{…same}, discount_lifetime, gap_stddev_days,
 *   active_months_last_12, cancelled_orders_365d, orders_same_period_last_year (purchases (as_of − 365 d, as_of − 275 d]),
 *   returns_lifetime, returns_90d, returned_amount_lifetime, returned_amount_365d,
 *   sessions_{30d,90d,prior_90d}, page_views_{30d,90d}, session_seconds_90d, categories_365d, categories_lifetime
 * Counts and sums are 0 when there were no events; gap_stddev_days is NULL below three purchases.
 */

/** Who gets a row: customers with a completed order at or before as_of, or with any event at or before it. */
export type Population = 'purchasers' | 'any_event';
export const POPULATIONS: readonly Population[] = ['purchasers', 'any_event'];

/** SQL with knex named bindings (`:as_of`), for `db.raw(sql, bindings)`. */
export interface FeatureQuery {
  sql: string;
  bindings: { as_of: string; sample_hash_below?: number };
}

/** The as_of parameter as an ISO-8601 instant, after checking that it is one. */
export function asOfParameter(asOf: Date): string {
  if (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())) throw new ValidationError('as_of must be a valid date', 'asOf');
  return asOf.toISOString();
}

const AS_OF = ':as_of::timestamptz';
// Age of an event in 24-hour days (date_part gives float8; the interval of a timestamptz difference has no months).
// An event at or before as_of lies in the window (as_of − N days, as_of] exactly when its age is below N.
const ageDays = (column: string) => `date_part('epoch', ${AS_OF} - ${column}) / 86400`;
const LAST_30 = 'age_days < 30';
const LAST_90 = 'age_days < 90';
const PRIOR_90 = 'age_days >= 90 and age_days < 180';
const LAST_365 = 'age_days < 365';
// The 90 days that followed as_of one year earlier: (as_of − 365 d, as_of − 275 d].
const SAME_PERIOD_LAST_YEAR = 'age_days >= 275 and age_days < 365';

// `inSample` appends a training-sample filter to each event table's where clause ('' when there is no sample).
const aggregateCtes = (inSample: (column: string) => string) => `
orders_to_date as (
  select customer_id, ordered_at, amount, discount_amount, status,
         status = 'completed' as is_purchase,
         ${ageDays('ordered_at')} as age_days,
         -- Partitioning by is_purchase as well makes lag() step from purchase to purchase, skipping other statuses.
         date_part('epoch', ordered_at - lag(ordered_at) over (partition by customer_id, status = 'completed' order by ordered_at)) / 86400
           as gap_days
    from orders
   where ordered_at <= ${AS_OF}${inSample('customer_id')}
),
order_aggregates as (
  select customer_id,
         min(ordered_at) filter (where is_purchase) as first_order_at,
         max(ordered_at) filter (where is_purchase) as last_order_at,
         count(*) filter (where is_purchase and ${LAST_30}) as orders_30d,
         count(*) filter (where is_purchase and ${LAST_90}) as orders_90d,
         count(*) filter (where is_purchase and ${PRIOR_90}) as orders_prior_90d,
         count(*) filter (where is_purchase and ${LAST_365}) as orders_365d,
         count(*) filter (where is_purchase) as orders_lifetime,
         sum(amount) filter (where is_purchase and ${LAST_30}) as spend_30d,
         sum(amount) filter (where is_purchase and ${LAST_90}) as spend_90d,
         sum(amount) filter (where is_purchase and ${PRIOR_90}) as spend_prior_90d,
         sum(amount) filter (where is_purchase and ${LAST_365}) as spend_365d,
         sum(amount) filter (where is_purchase) as spend_lifetime,
         sum(discount_amount) filter (where is_purchase) as discount_lifetime,
         stddev_samp(gap_days) filter (where is_purchase) as gap_stddev_days,
         -- 30-day months counted back from as_of: month k holds the purchases 30k to 30(k + 1) days old.
         count(distinct floor(age_days / 30)) filter (where is_purchase and age_days < 360) as active_months_last_12,
         count(*) filter (where status = 'cancelled' and ${LAST_365}) as cancelled_orders_365d,
         count(*) filter (where is_purchase and ${SAME_PERIOD_LAST_YEAR}) as orders_same_period_last_year
    from orders_to_date
   group by customer_id
),
category_aggregates as (
  select o.customer_id,
         count(distinct i.category) filter (where ${ageDays('o.ordered_at')} < 365) as categories_365d,
         count(distinct i.category) as categories_lifetime
    from orders o
    join order_items i on i.order_id = o.order_id
   where o.status = 'completed' and o.ordered_at <= ${AS_OF}${inSample('o.customer_id')}
   group by o.customer_id
),
return_aggregates as (
  select customer_id,
         count(*) as returns_lifetime,
         count(*) filter (where ${LAST_90}) as returns_90d,
         sum(amount) as returned_amount_lifetime,
         sum(amount) filter (where ${LAST_365}) as returned_amount_365d
    from (select customer_id, amount, ${ageDays('returned_at')} as age_days from returns where returned_at <= ${AS_OF}${inSample('customer_id')}) returns_to_date
   group by customer_id
),
session_aggregates as (
  select customer_id,
         max(started_at) as last_session_at,
         count(*) filter (where ${LAST_30}) as sessions_30d,
         count(*) filter (where ${LAST_90}) as sessions_90d,
         count(*) filter (where ${PRIOR_90}) as sessions_prior_90d,
         sum(page_views) filter (where ${LAST_30}) as page_views_30d,
         sum(page_views) filter (where ${LAST_90}) as page_views_90d,
         sum(duration_s) filter (where ${LAST_90}) as session_seconds_90d
    from (select *, ${ageDays('started_at')} as age_days from sessions where started_at <= ${AS_OF}${inSample('customer_id')}) sessions_to_date
   group by customer_id
)`;

// A predicate over the joined aggregates, so that each aggregate CTE is read once (and inlined by the planner).
const populationPredicate: Record<Population, string> = {
  purchasers: 'o.orders_lifetime > 0',
  any_event: `o.customer_id is not null or r.customer_id is not null or s.customer_id is not null or c.signup_at <= ${AS_OF}`,
};

const zeroWhenNoEvents = [
  ...['orders_30d', 'orders_90d', 'orders_prior_90d', 'orders_365d', 'orders_lifetime'].map((c) => `o.${c}`),
  ...['spend_30d', 'spend_90d', 'spend_prior_90d', 'spend_365d', 'spend_lifetime', 'discount_lifetime'].map((c) => `o.${c}`),
  'o.active_months_last_12',
  'o.cancelled_orders_365d',
  'o.orders_same_period_last_year',
  'k.categories_365d',
  'k.categories_lifetime',
  ...['returns_lifetime', 'returns_90d', 'returned_amount_lifetime', 'returned_amount_365d'].map((c) => `r.${c}`),
  ...['sessions_30d', 'sessions_90d', 'sessions_prior_90d', 'page_views_30d', 'page_views_90d', 'session_seconds_90d'].map((c) => `s.${c}`),
];

const customerAggregatesCte = (population: Population, sampled: boolean) => `
customer_aggregates as (
  select c.customer_id,
         ${AS_OF} as as_of,
         case when c.signup_at <= ${AS_OF} then c.signup_at end as signup_at,
         o.first_order_at, o.last_order_at, o.gap_stddev_days, s.last_session_at,
         ${zeroWhenNoEvents.map((column) => `coalesce(${column}, 0) as ${column.slice(2)}`).join(',\n         ')}
    from customers c
    left join order_aggregates o on o.customer_id = c.customer_id
    left join category_aggregates k on k.customer_id = c.customer_id
    left join return_aggregates r on r.customer_id = c.customer_id
    left join session_aggregates s on s.customer_id = c.customer_id
   where ${sampled ? `(${populationPredicate[population]})${andInTrainingSample('c.customer_id')}` : populationPredicate[population]}
)`;

const featureArray = `array[\n  ${FEATURE_CATALOG.map((feature) => `(${feature.sql})::real`).join(',\n  ')}\n]`;

/**
 * The statement's text, which depends only on the catalog, the population and whether it is restricted to a training
 * sample (features/training-sample.ts: a sampled customer's features are the same, only the other customers are left out).
 */
export function featureQuerySql(population: Population, sampled = false): string {
  const sampleCte = sampled ? `${TRAINING_SAMPLE_CTE},` : '';
  return `with ${sampleCte}${aggregateCtes(sampled ? andInTrainingSample : () => '')},
${customerAggregatesCte(population, sampled)}
select customer_id, ${featureArray} as "values"
  from customer_aggregates`;
}

/** Rows of (customer_id text, "values" real[] in catalog order) for the population (or its sampled part) as of asOf. */
export function featureQuery(asOf: Date, population: Population = 'purchasers', sample: TrainingSample | null = null): FeatureQuery {
  if (!POPULATIONS.includes(population)) throw new ValidationError(`Unknown population '${population}'`, 'population');
  const bindings = { as_of: asOfParameter(asOf) };
  return sample
    ? { sql: featureQuerySql(population, true), bindings: { ...bindings, ...sampleBindings(sample) } }
    : { sql: featureQuerySql(population), bindings };
}
