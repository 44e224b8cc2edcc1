import type { Knex } from 'knex';
import { ValidationError } from '../lib/errors';
import { MS_PER_DAY } from '../lib/horizons';
import { andInTrainingSample, sampleBindings, TRAINING_SAMPLE_CTE, type TrainingSample } from './training-sample';
import { sampleDb } from './sample-copies';

/**
 * The per-customer repeat-purchase summary that the BG/NBD and Gamma-Gamma models (and the historical-average
 * baseline) read, computed in one SQL statement as of an instant, with the outcome after it for backtests.
 *
 * Conventions:
 * - A purchase is an order that was not cancelled: 'completed' and also 'refunded'. The status is stored as it is
 *   now, with no history, so an order refunded after as_of would drop out of an as-of summary if only 'completed'
 *   counted; counting it as the purchase it was, and its refund as the return dated returned_at, keeps the summary
 *   point in time. (The feature catalog, which excludes refunded orders, documents the other choice.)
 * - Orders on the same UTC calendar day are one transaction (their amounts summed), as in Fader, Hardie & Lee
 *   (2005); the transaction happens at the day's first order.
 * - Time is in DAYS of 24 hours, fractional: t_x and T are measured between exact instants. BG/NBD is unit-free;
 *   the models that read this summary are told the unit.
 * - Money is the order amount as stored (net of discount, gross of returns), summed exactly as numeric in SQL.
 */

export interface ClvSummaryOptions {
  asOf: Date;
  /** When given, the outcome in (asOf, asOf + holdoutDays] is read too, for a backtest. */
  holdoutDays?: number;
  /**
   * Weight of the population return share in each customer's expected return share, in orders of the
   * population's average transaction value. Default 5: a customer's own share counts for half once they have
   * bought about five average transactions, so one returned order does not make a 100% returner.
   */
  returnSharePriorOrders?: number;
  /** Length of the recent window whose net spend the historical-average baseline reads, in days. Default 365. */
  recentWindowDays?: number;
  /** Only the customers of this training sample (features/training-sample.ts); default everyone. */
  sample?: TrainingSample | null;
}

export const DEFAULT_RETURN_SHARE_PRIOR_ORDERS = 5;
export const DEFAULT_RECENT_WINDOW_DAYS = 365;

/** What happened after as_of, per customer. */
export interface ClvHoldout {
  days: number;
  /** Transactions (distinct UTC days with a purchase) in (asOf, asOf + days]. */
  transactions: Int32Array;
  /**
   * Net revenue of the purchases made in the window: their amounts minus the returns against them booked by the
   * window's end (returns not linked to an order count when booked in the window).
   */
  netRevenue: Float64Array;
}

/** Columnar: index i of every array is customerIds[i]. Customers are those with a purchase at or before asOf. */
export interface ClvSummary {
  asOf: Date;
  customerIds: string[];
  /** x: repeat transactions (transactions after the first). */
  frequency: Int32Array;
  /** t_x: days from the first to the last transaction. */
  recency: Float64Array;
  /** T: days from the first transaction to asOf. */
  age: Float64Array;
  /** z̄: mean value of the repeat transactions (the first excluded, as Gamma-Gamma expects); 0 when x = 0. */
  meanRepeatValue: Float64Array;
  /** All purchases to date. */
  purchasedAmount: Float64Array;
  /** Returns booked at or before asOf. */
  returnedAmount: Float64Array;
  recentWindowDays: number;
  /** Purchases minus returns booked in (asOf − recentWindowDays, asOf]; negative when returns outweigh purchases. */
  recentNetSpend: Float64Array;
  /** Transactions (purchase days) in the recent window: how much evidence the recent net spend rests on. */
  recentTransactions: Int32Array;
  /**
   * Σ max(0, recent net spend) ÷ Σ recent transactions over these customers (0 without any): the population's mean
   * net spend per recent transaction, which the historical-average interval gives a customer with none. Taken over
   * the whole as-of, so a customer's interval does not depend on the batch they are scored in.
   */
  recentMeanTransactionValue: number;
  /** (returned + k·s̄) / (purchased + k): the Bayesian average of the customer's and the population's share. */
  expectedReturnShare: Float64Array;
  /** s̄ = Σ returned ÷ Σ purchased over these customers. */
  populationReturnShare: number;
  /** k, in money: returnSharePriorOrders × the population's mean transaction value. */
  returnSharePriorWeight: number;
  holdout?: ClvHoldout;
}

// Named knex bindings: :as_of, :recent_start, :holdout_end (as_of itself when no holdout is asked for: an empty
// window), :prior_orders; :sample_hash_below when `inSample` filters by a training sample.
const summarySql = (sampleCte: string, inSample: (column: string) => string) => `
with ${sampleCte}transactions as (
  select customer_id,
         min(ordered_at) as transaction_at,
         sum(amount) as value,
         coalesce(sum(amount) filter (where ordered_at > :recent_start::timestamptz), 0) as recent_value,
         bool_or(ordered_at > :recent_start::timestamptz) as in_recent_window
    from orders
   where status <> 'cancelled' and ordered_at <= :as_of::timestamptz${inSample('customer_id')}
   group by customer_id, (ordered_at at time zone 'UTC')::date
),
ranked as (
  select customer_id, transaction_at, value, recent_value, in_recent_window,
         min(transaction_at) over (partition by customer_id) as first_at
    from transactions
),
histories as (
  select customer_id,
         count(*) - 1 as frequency,
         min(first_at) as first_at,
         max(transaction_at) as last_at,
         sum(value) as purchased,
         sum(recent_value) as recent_purchased,
         count(*) filter (where in_recent_window) as recent_transactions,
         coalesce(sum(value) filter (where transaction_at > first_at), 0) as repeat_value
    from ranked
   group by customer_id
),
returned as (
  select customer_id,
         sum(amount) as returned,
         coalesce(sum(amount) filter (where returned_at > :recent_start::timestamptz), 0) as recent_returned
    from returns
   where returned_at <= :as_of::timestamptz${inSample('customer_id')}
   group by customer_id
),
calibration as (
  select h.*, coalesce(r.returned, 0) as returned, coalesce(r.recent_returned, 0) as recent_returned
    from histories h
    left join returned r on r.customer_id = h.customer_id
),
population as (
  select sum(returned) / nullif(sum(purchased), 0) as share,
         :prior_orders * sum(purchased) / sum(frequency + 1) as prior_weight,
         sum(greatest(recent_purchased - recent_returned, 0)) / nullif(sum(recent_transactions), 0) as recent_mean_value
    from calibration
),
holdout_orders as (
  select order_id, customer_id, ordered_at, amount
    from orders
   where status <> 'cancelled' and ordered_at > :as_of::timestamptz and ordered_at <= :holdout_end::timestamptz${inSample('customer_id')}
),
holdout_purchases as (
  select customer_id,
         count(distinct (ordered_at at time zone 'UTC')::date) as transactions,
         sum(amount) as purchased
    from holdout_orders
   group by customer_id
),
holdout_returns as (
  select r.customer_id, sum(r.amount) as returned
    from returns r
    left join holdout_orders o on o.order_id = r.order_id
   where r.returned_at > :as_of::timestamptz and r.returned_at <= :holdout_end::timestamptz${inSample('r.customer_id')}
     and (o.order_id is not null or r.order_id is null)
   group by r.customer_id
)
select c.customer_id,
       c.frequency::int as frequency,
       (date_part('epoch', c.last_at - c.first_at) / 86400)::float8 as recency,
       (date_part('epoch', :as_of::timestamptz - c.first_at) / 86400)::float8 as age,
       (c.repeat_value / nullif(c.frequency, 0))::float8 as mean_repeat_value,
       c.purchased::float8 as purchased,
       c.returned::float8 as returned,
       (c.recent_purchased - c.recent_returned)::float8 as recent_net_spend,
       c.recent_transactions::int as recent_transactions,
       -- Clamped because returns booked against cancelled orders (a data error) could exceed the purchases.
       least(1, greatest(0, (c.returned + p.prior_weight * coalesce(p.share, 0)) / nullif(c.purchased + p.prior_weight, 0)))::float8
         as expected_return_share,
       coalesce(p.share, 0)::float8 as population_share,
       p.prior_weight::float8 as prior_weight,
       coalesce(p.recent_mean_value, 0)::float8 as recent_mean_value,
       coalesce(hp.transactions, 0)::int as holdout_transactions,
       (coalesce(hp.purchased, 0) - coalesce(hr.returned, 0))::float8 as holdout_net_revenue
  from calibration c
 cross join population p
  left join holdout_purchases hp on hp.customer_id = c.customer_id
  left join holdout_returns hr on hr.customer_id = c.customer_id
 order by c.customer_id`;
const SUMMARY_SQL = summarySql('', () => '');
const SAMPLED_SUMMARY_SQL = summarySql(`${TRAINING_SAMPLE_CTE},\n`, andInTrainingSample);

interface SummaryRow {
  customer_id: string;
  frequency: number;
  recency: number;
  age: number;
  mean_repeat_value: number | null;
  purchased: number;
  returned: number;
  recent_net_spend: number;
  recent_transactions: number;
  expected_return_share: number | null;
  population_share: number;
  prior_weight: number;
  recent_mean_value: number;
  holdout_transactions: number;
  holdout_net_revenue: number;
}

/**
 * The summary of every customer (or every sampled customer) with a purchase at or before asOf, ordered by customer_id. The calibration part
 * reads nothing dated after asOf; the holdout part reads (asOf, asOf + holdoutDays] only.
 */
export async function clvSummary(db: Knex, options: ClvSummaryOptions): Promise<ClvSummary> {
  const { asOf, holdoutDays } = options;
  const priorOrders = options.returnSharePriorOrders ?? DEFAULT_RETURN_SHARE_PRIOR_ORDERS;
  const recentWindowDays = options.recentWindowDays ?? DEFAULT_RECENT_WINDOW_DAYS;
  if (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())) throw new ValidationError('asOf must be a valid date', 'asOf');
  if (holdoutDays !== undefined && !(Number.isFinite(holdoutDays) && holdoutDays > 0)) {
    throw new ValidationError(`holdoutDays must be a positive number of days, got ${holdoutDays}`, 'holdoutDays');
  }
  if (!(Number.isFinite(recentWindowDays) && recentWindowDays > 0)) {
    throw new ValidationError(`recentWindowDays must be a positive number of days, got ${recentWindowDays}`, 'recentWindowDays');
  }
  if (!(Number.isFinite(priorOrders) && priorOrders >= 0)) {
    throw new ValidationError(`returnSharePriorOrders must be >= 0, got ${priorOrders}`, 'returnSharePriorOrders');
  }
  const holdoutEnd = new Date(asOf.getTime() + (holdoutDays ?? 0) * MS_PER_DAY);
  const bindings = {
    as_of: asOf.toISOString(),
    recent_start: new Date(asOf.getTime() - recentWindowDays * MS_PER_DAY).toISOString(),
    holdout_end: holdoutEnd.toISOString(),
    prior_orders: priorOrders,
  };
  const { sample } = options;
  const result = sample
    ? await sampleDb(db, sample).raw(SAMPLED_SUMMARY_SQL, { ...bindings, ...sampleBindings(sample) })
    : await db.raw(SUMMARY_SQL, bindings);
  const rows = result.rows as SummaryRow[];

  const n = rows.length;
  const summary: ClvSummary = {
    asOf,
    customerIds: new Array<string>(n),
    frequency: new Int32Array(n),
    recency: new Float64Array(n),
    age: new Float64Array(n),
    meanRepeatValue: new Float64Array(n),
    purchasedAmount: new Float64Array(n),
    returnedAmount: new Float64Array(n),
    recentWindowDays,
    recentNetSpend: new Float64Array(n),
    recentTransactions: new Int32Array(n),
    recentMeanTransactionValue: n > 0 ? rows[0].recent_mean_value : 0,
    expectedReturnShare: new Float64Array(n),
    populationReturnShare: n > 0 ? rows[0].population_share : 0,
    returnSharePriorWeight: n > 0 ? rows[0].prior_weight : 0,
  };
  const holdout =
    holdoutDays === undefined ? undefined : { days: holdoutDays, transactions: new Int32Array(n), netRevenue: new Float64Array(n) };
  rows.forEach((row, i) => {
    summary.customerIds[i] = row.customer_id;
    summary.frequency[i] = row.frequency;
    summary.recency[i] = row.recency;
    summary.age[i] = row.age;
    summary.meanRepeatValue[i] = row.mean_repeat_value ?? 0;
    summary.purchasedAmount[i] = row.purchased;
    summary.returnedAmount[i] = row.returned;
    summary.recentNetSpend[i] = row.recent_net_spend;
    summary.recentTransactions[i] = row.recent_transactions;
    // Null only when nothing was ever paid and there is no prior (all amounts 0): nothing to return, then.
    summary.expectedReturnShare[i] = row.expected_return_share ?? 0;
    if (holdout) {
      holdout.transactions[i] = row.holdout_transactions;
      holdout.netRevenue[i] = row.holdout_net_revenue;
    }
  });
  return holdout ? { ...summary, holdout } : summary;
}

/** The repeat-purchase histories alone (x, t_x, T in days), as clvSummary computes them: what BG/NBD reads. */
export interface PurchaseHistorySummary {
  asOf: Date;
  customerIds: string[];
  frequency: Int32Array;
  recency: Float64Array;
  age: Float64Array;
}

// The transactions and histories of SUMMARY_SQL without the money, returns and holdout: the churn rows need only these
// three columns at a dozen cutoffs, and this reads no returns.
const historiesSql = (sampleCte: string, inSample: (column: string) => string) => `
with ${sampleCte}transactions as (
  select customer_id, min(ordered_at) as transaction_at
    from orders
   where status <> 'cancelled' and ordered_at <= :as_of::timestamptz${inSample('customer_id')}
   group by customer_id, (ordered_at at time zone 'UTC')::date
)
select customer_id,
       (count(*) - 1)::int as frequency,
       (date_part('epoch', max(transaction_at) - min(transaction_at)) / 86400)::float8 as recency,
       (date_part('epoch', :as_of::timestamptz - min(transaction_at)) / 86400)::float8 as age
  from transactions
 group by customer_id
 order by customer_id`;
const HISTORIES_SQL = historiesSql('', () => '');
const SAMPLED_HISTORIES_SQL = historiesSql(`${TRAINING_SAMPLE_CTE},\n`, andInTrainingSample);

/**
 * clvSummary's frequency, recency and age of every customer (or every customer of `sample`) with a purchase at or
 * before asOf, by customer_id.
 */
export async function purchaseHistories(db: Knex, asOf: Date, sample: TrainingSample | null = null): Promise<PurchaseHistorySummary> {
  if (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())) throw new ValidationError('asOf must be a valid date', 'asOf');
  const asOfBinding = { as_of: asOf.toISOString() };
  const result = sample
    ? await sampleDb(db, sample).raw(SAMPLED_HISTORIES_SQL, { ...asOfBinding, ...sampleBindings(sample) })
    : await db.raw(HISTORIES_SQL, asOfBinding);
  const rows = result.rows as {
    customer_id: string;
    frequency: number;
    recency: number;
    age: number;
  }[];
  const n = rows.length;
  const histories: PurchaseHistorySummary = {
    asOf,
    customerIds: new Array<string>(n),
    frequency: new Int32Array(n),
    recency: new Float64Array(n),
    age: new Float64Array(n),
  };
  rows.forEach((row, i) => {
    histories.customerIds[i] = row.customer_id;
    histories.frequency[i] = row.frequency;
    histories.recency[i] = row.recency;
    histories.age[i] = row.age;
  });
  return histories;
}
