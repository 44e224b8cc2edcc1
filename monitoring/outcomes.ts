import type { Knex } from 'knex';
import { outcomesKnownUntil } from '../ingestion/outcomes-known-until';
import { DAYS_PER_MONTH, MS_PER_DAY } from '../lib/horizons';

/**
 * What past scoring runs predicted against what happened once their horizons matured: the churn calibration over
 * time (mean predicted churn probability against the share of customers who made no completed order in the run's
 * churn window, as features/churn-labels.ts defines churn) and the CLV realised against predicted (the net revenue,
 * non-cancelled orders less their returns, as the CLV models learn it in features/clv-summary.ts, over the run's CLV
 * horizon). A horizon has matured once the orders (and the returns) are known past its end: the newest completed
 * export of those sources. Runs whose horizon has not matured carry the date it will.
 */
export interface RunOutcome {
  runId: number;
  asOf: string;
  churn: {
    horizonDays: number;
    maturesAt: string;
    matured: boolean;
    /** Customers with a churn probability in the run. */
    customers: number;
    /** Mean predicted probability; realised share churned and the Brier score once matured, else null. */
    predicted: number | null;
    realised: number | null;
    brier: number | null;
  };
  clv: {
    horizonMonths: number;
    maturesAt: string;
    matured: boolean;
    /** Customers with an expected net revenue in the run. */
    customers: number;
    /** Money as decimal strings summed by Postgres in numeric: Σ predicted, and Σ realised once matured. */
    predicted: string | null;
    realised: string | null;
    /** Σ realised / Σ predicted (1 is unbiased), once matured. */
    ratio: number | null;
  };
}

export interface OutcomesReport {
  /** The newest instant both orders and returns are known up to (their newest completed exports), or null. */
  outcomesKnownUpTo: string | null;
  /** The published runs, oldest first. */
  runs: RunOutcome[];
}

/** At most this many runs are read per report (the newest ones): each matured run is one query over its rows. */
export const DEFAULT_OUTCOME_RUNS = 24;

interface RunRow {
  run_id: string;
  as_of: Date;
  churn_horizon_days: number | null;
  clv_horizon_months: number | null;
}

async function churnOutcome(db: Knex, runId: string) {
  const { rows } = await db.raw<{ rows: { customers: number; predicted: number | null; realised: number | null; brier: number | null }[] }>(
    `with labelled as (
       select s.churn_probability::float8 as p,
              case when exists (select 1 from orders o
                                 where o.customer_id = s.customer_id and o.status = 'completed'
                                   and o.ordered_at > s.as_of
                                   and o.ordered_at <= s.as_of + s.churn_horizon_days * interval '1 day')
                   then 0 else 1 end as churned
         from customer_risk_scores s
        where s.run_id = :runId and s.churn_probability is not null)
     select count(*)::int as customers, avg(p) as predicted, avg(churned)::float8 as realised, avg((p - churned) ^ 2) as brier
       from labelled`,
    { runId },
  );
  return rows[0]!;
}

async function clvOutcome(db: Knex, runId: string) {
  const { rows } = await db.raw<{ rows: { customers: number; predicted: string | null; realised: string | null; ratio: number | null }[] }>(
    `with scored as (
       select customer_id, as_of, clv_expected_net_revenue as predicted,
              as_of + clv_horizon_months * :daysPerMonth::float8 * interval '1 day' as ends
         from customer_risk_scores
        where run_id = :runId and clv_expected_net_revenue is not null),
     window_orders as (
       select s.customer_id, o.order_id, o.amount
         from scored s
         join orders o on o.customer_id = s.customer_id and o.status <> 'cancelled'
                      and o.ordered_at > s.as_of and o.ordered_at <= s.ends),
     window_returns as (
       select s.customer_id, sum(r.amount) as amount
         from scored s
         join returns r on r.customer_id = s.customer_id and r.returned_at > s.as_of and r.returned_at <= s.ends
         left join window_orders w on w.order_id = r.order_id
        where w.order_id is not null or r.order_id is null
        group by s.customer_id),
     per_customer as (
       select s.predicted,
              coalesce((select sum(w.amount) from window_orders w where w.customer_id = s.customer_id), 0)
                - coalesce(r.amount, 0) as realised
         from scored s left join window_returns r on r.customer_id = s.customer_id)
     select count(*)::int as customers, sum(predicted)::text as predicted, sum(realised)::text as realised,
            (sum(realised) / nullif(sum(predicted), 0))::float8 as ratio
       from per_customer`,
    { runId, daysPerMonth: DAYS_PER_MONTH },
  );
  return rows[0]!;
}

async function counted(db: Knex, runId: string) {
  const row = (await db('customer_risk_scores')
    .where({ run_id: runId })
    .first(
      db.raw('count(churn_probability)::int as churn'),
      db.raw('count(clv_expected_net_revenue)::int as clv'),
      db.raw('avg(churn_probability)::float8 as predicted'),
      db.raw('sum(clv_expected_net_revenue)::text as clv_predicted'),
    )) as { churn: number; clv: number; predicted: number | null; clv_predicted: string | null };
  return row;
}

const horizons = (db: Knex) => [
  db.raw('(select s.churn_horizon_days from customer_risk_scores s where s.run_id = r.run_id limit 1) as churn_horizon_days'),
  db.raw('(select s.clv_horizon_months from customer_risk_scores s where s.run_id = r.run_id limit 1) as clv_horizon_months'),
];

/** The published runs, newest first; their horizons are fixed per run by its models, so any one row says them. */
const publishedRuns = (db: Knex) =>
  db('scoring_runs as r')
    .whereNotNull('r.published_at')
    .orderBy([
      { column: 'r.as_of', order: 'desc' },
      { column: 'r.published_at', order: 'desc' },
    ])
    .select('r.run_id', 'r.as_of', ...horizons(db));

async function outcomeOf(db: Knex, run: RunRow & { churn_horizon_days: number; clv_horizon_months: number }, known: Date | null) {
  const churnEnds = new Date(run.as_of.getTime() + run.churn_horizon_days * MS_PER_DAY);
  const clvEnds = new Date(run.as_of.getTime() + run.clv_horizon_months * DAYS_PER_MONTH * MS_PER_DAY);
  const churnMatured = known !== null && churnEnds <= known;
  const clvMatured = known !== null && clvEnds <= known;
  const base = churnMatured && clvMatured ? null : await counted(db, run.run_id);
  const churn = churnMatured ? await churnOutcome(db, run.run_id) : null;
  const clv = clvMatured ? await clvOutcome(db, run.run_id) : null;
  return {
    runId: Number(run.run_id),
    asOf: run.as_of.toISOString(),
    churn: {
      horizonDays: run.churn_horizon_days,
      maturesAt: churnEnds.toISOString(),
      matured: churnMatured,
      customers: churn?.customers ?? base!.churn,
      predicted: churn ? churn.predicted : base!.predicted,
      realised: churn?.realised ?? null,
      brier: churn?.brier ?? null,
    },
    clv: {
      horizonMonths: run.clv_horizon_months,
      maturesAt: clvEnds.toISOString(),
      matured: clvMatured,
      customers: clv?.customers ?? base!.clv,
      predicted: clv ? clv.predicted : base!.clv_predicted,
      realised: clv?.realised ?? null,
      ratio: clv?.ratio ?? null,
    },
  } satisfies RunOutcome;
}

const scored = (run: RunRow): run is RunRow & { churn_horizon_days: number; clv_horizon_months: number } =>
  run.churn_horizon_days !== null && run.clv_horizon_months !== null;

/**
 * The outcomes of the newest `limit` published runs, oldest first. Computed from the stored runs and orders on each
 * call, so late-arriving orders count as soon as they are ingested.
 */
export async function runOutcomes(db: Knex, options: { limit?: number } = {}): Promise<OutcomesReport> {
  const known = await outcomesKnownUntil(db);
  const runs = ((await publishedRuns(db).limit(options.limit ?? DEFAULT_OUTCOME_RUNS)) as RunRow[]).reverse().filter(scored);
  const out: RunOutcome[] = [];
  for (const run of runs) out.push(await outcomeOf(db, run, known));
  return { outcomesKnownUpTo: known?.toISOString() ?? null, runs: out };
}

/** The newest published run whose churn (or CLV) horizon has matured, with its outcome; null before the first. */
export async function latestMaturedOutcome(db: Knex, kind: 'churn' | 'clv'): Promise<RunOutcome | null> {
  const known = await outcomesKnownUntil(db);
  if (!known) return null;
  const ends =
    kind === 'churn'
      ? `r.as_of + (select s.churn_horizon_days from customer_risk_scores s where s.run_id = r.run_id limit 1) * interval '1 day'`
      : `r.as_of + (select s.clv_horizon_months from customer_risk_scores s where s.run_id = r.run_id limit 1) * ${DAYS_PER_MONTH} * interval '1 day'`;
  const run = (await publishedRuns(db).whereRaw(`${ends} <= ?`, [known]).first()) as RunRow | undefined;
  return run && scored(run) ? outcomeOf(db, run, known) : null;
}
