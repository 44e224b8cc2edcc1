import type { Knex } from 'knex';

/** How many of the newest published runs the overview's trend covers. */
export const TREND_RUNS = 24;

/** One published scoring run in the overview's trend, with the business KPIs of the window that ends at its as-of. */
export interface RunTrend {
  runId: number;
  asOf: string;
  customersScored: number;
  /** Σ P(churn) × expected net revenue over the run's profiles, summed in numeric: a decimal string. */
  revenueAtRisk: string;
  /** Mean expected net revenue (CLV) over the run's profiles with one; null when none has. */
  averageClv: string | null;
  /** The previous published run's customers, and those of them with an order after its as-of up to this run's. */
  previousCustomers: number;
  retainedCustomers: number;
  /** retained ÷ previous customers, and its complement; null for the first run (no previous run). */
  retentionRate: number | null;
  churnRate: number | null;
  /**
   * Net revenue retention: the revenue in this window (previous as-of, as-of] from the customers who ordered in the
   * window before it, over their revenue in that window; null without two earlier runs or without revenue before.
   */
  netRevenueRetention: number | null;
  segments: { segment: string | null; customers: number }[];
}

interface TrendRow {
  run_id: string;
  as_of: Date;
  n: number;
  at_risk: string;
  average_clv: string | null;
  previous: number;
  retained: number;
  nrr: string | null;
}

// Revenue: amounts of orders not cancelled (as the CLV summaries count purchases), summed in numeric.
const REVENUE_ORDERS = `o.status <> 'cancelled'`;

/**
 * The newest published runs, oldest first, with revenue at risk, average CLV, retention, churn and net revenue
 * retention per run (README "Web console"), computed in SQL over customer_risk_scores and orders.
 */
export async function portfolioTrend(db: Knex, runs = TREND_RUNS): Promise<RunTrend[]> {
  const { rows } = await db.raw<{ rows: TrendRow[] }>(
    `with published as (
       select run_id, as_of,
              lag(run_id) over w as previous_run, lag(as_of) over w as previous_as_of, lag(as_of, 2) over w as before_previous_as_of
         from scoring_runs where status = 'published'
       window w as (order by as_of, run_id)
     ), recent as (
       select * from published order by as_of desc, run_id desc limit :runs
     )
     select r.run_id, r.as_of, s.n, s.at_risk, s.average_clv, k.previous, k.retained, v.nrr
       from recent r
      cross join lateral (
        select count(*)::int as n,
               round(coalesce(sum(churn_probability::numeric * clv_expected_net_revenue), 0), 2)::text as at_risk,
               round(avg(clv_expected_net_revenue), 2)::text as average_clv
          from customer_risk_scores where run_id = r.run_id
      ) s
      cross join lateral (
        select count(*)::int as previous,
               count(*) filter (where exists (
                 select 1 from orders o
                  where o.customer_id = p.customer_id and ${REVENUE_ORDERS}
                    and o.ordered_at > r.previous_as_of and o.ordered_at <= r.as_of
               ))::int as retained
          from customer_risk_scores p where p.run_id = r.previous_run
      ) k
      cross join lateral (
        select round(sum(c.now_revenue) / nullif(sum(c.before_revenue), 0), 4)::text as nrr
          from (
            select sum(o.amount) filter (where o.ordered_at <= r.previous_as_of) as before_revenue,
                   coalesce(sum(o.amount) filter (where o.ordered_at > r.previous_as_of), 0) as now_revenue
              from orders o
             where ${REVENUE_ORDERS} and o.ordered_at > r.before_previous_as_of and o.ordered_at <= r.as_of
             group by o.customer_id
          ) c
         where c.before_revenue is not null
      ) v
      order by r.as_of, r.run_id`,
    { runs },
  );
  const segments = await db('customer_risk_scores')
    .whereIn(
      'run_id',
      rows.map((r) => r.run_id),
    )
    .groupBy('run_id', 'segment')
    .orderBy([{ column: 'segment', order: 'asc', nulls: 'last' }])
    .select('run_id', 'segment', db.raw('count(*)::int as n'));
  return rows.map((r) => ({
    runId: Number(r.run_id),
    asOf: r.as_of.toISOString(),
    customersScored: r.n,
    revenueAtRisk: r.at_risk,
    averageClv: r.average_clv,
    previousCustomers: r.previous,
    retainedCustomers: r.retained,
    retentionRate: r.previous === 0 ? null : r.retained / r.previous,
    churnRate: r.previous === 0 ? null : (r.previous - r.retained) / r.previous,
    netRevenueRetention: r.nrr === null ? null : Number(r.nrr),
    segments: (segments as { run_id: string; segment: string | null; n: number }[])
      .filter((s) => s.run_id === r.run_id)
      .map((s) => ({ segment: s.segment, customers: s.n })),
  }));
}
