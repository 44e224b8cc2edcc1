import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../lib/errors';
import { meanDifference, moments, proportionDifference, type Difference } from './impact-statistics';

const DAY_MS = 86_400_000;
/** Treated: the actions that went ahead (automatically or approved by a person). Control: the policy's holdout. */
const TREATED_STATUSES = ['auto_approved', 'approved'];

export interface GroupOutcome {
  customers: number;
  retained: number;
  retentionRate: number | null;
  /** Exact sum of their orders' amounts over the horizon (numeric in SQL). */
  revenue: string;
  revenuePerCustomer: number | null;
}

export interface PolicyImpact {
  versionId: number;
  policyKey: string;
  version: number;
  horizonDays: number;
  /** Decisions before this were old enough for their horizon to have passed; younger ones are left out. */
  maturedBefore: string;
  treated: GroupOutcome;
  control: GroupOutcome;
  retention: Difference | null;
  revenuePerCustomer: Difference | null;
  /** Incentives of the treated customers (exact). */
  incentiveCost: string;
  /** Incentive cost / (retention difference × treated customers); null unless the difference is positive. */
  costPerIncrementalRetained: string | null;
  method: string;
}

interface OutcomeRow {
  customer_id: string;
  holdout: boolean;
  retained: boolean;
  revenue: string;
  group_revenue: string;
  group_incentive: string;
}

function group(rows: OutcomeRow[], sum: string): GroupOutcome {
  const retained = rows.filter((r) => r.retained).length;
  const n = rows.length;
  return {
    customers: n,
    retained,
    retentionRate: n ? retained / n : null,
    revenue: sum,
    revenuePerCustomer: n ? moments(rows.map((r) => Number(r.revenue))).mean : null,
  };
}

/**
 * The impact of a policy version from its holdout: each customer's first decision under the version whose horizon
 * has passed, treated (the action went ahead) against control (the holdout). Retained: a non-cancelled order within
 * the horizon after the decision; revenue: the amounts of those orders. Differences with 95 % normal-approximation
 * intervals and the sample size to be conclusive (impact-statistics.ts).
 */
export async function policyImpact(db: Knex, versionId: number, options: { horizonDays?: number; now?: Date } = {}): Promise<PolicyImpact> {
  const horizonDays = options.horizonDays ?? 90;
  if (!Number.isInteger(horizonDays) || horizonDays < 1 || horizonDays > 3650)
    throw new ValidationError(`horizonDays must be a whole number of days from 1 to 3650, got ${horizonDays}`, 'horizonDays');
  const version = (await db('policy_versions').where({ version_id: versionId }).first('policy_key', 'version')) as
    { policy_key: string; version: number } | undefined;
  if (!version) throw new NotFoundError(`No policy version ${versionId}`);
  const maturedBefore = new Date((options.now ?? new Date()).getTime() - horizonDays * DAY_MS);

  const rows = (
    await db.raw<{ rows: OutcomeRow[] }>(
      `with first_action as (
         select distinct on (customer_id) customer_id, holdout, status, decided_at, incentive_amount
           from actions where version_id = :versionId and decided_at <= :maturedBefore
          order by customer_id, decided_at, action_id),
       outcome as (
         select f.customer_id, f.holdout, f.incentive_amount as incentive,
                count(o.order_id) > 0 as retained, coalesce(sum(o.amount), 0) as revenue
           from first_action f
           left join orders o on o.customer_id = f.customer_id and o.status <> 'cancelled'
                and o.ordered_at > f.decided_at and o.ordered_at <= f.decided_at + make_interval(days => :horizonDays)
          where f.holdout or f.status = any(:treated)
          group by f.customer_id, f.holdout, f.incentive_amount)
       select customer_id, holdout, retained, revenue::text as revenue,
              (sum(revenue) over (partition by holdout))::text as group_revenue,
              (sum(incentive) over (partition by holdout))::text as group_incentive
         from outcome order by customer_id`,
      { versionId, maturedBefore, horizonDays, treated: TREATED_STATUSES },
    )
  ).rows;
  const sumOf = (holdout: boolean) => rows.find((r) => r.holdout === holdout);
  const treatedRows = rows.filter((r) => !r.holdout);
  const controlRows = rows.filter((r) => r.holdout);
  const treated = group(treatedRows, sumOf(false)?.group_revenue ?? '0');
  const control = group(controlRows, sumOf(true)?.group_revenue ?? '0');
  const comparable = treated.customers >= 2 && control.customers >= 2;
  const retention = comparable
    ? proportionDifference({ successes: treated.retained, n: treated.customers }, { successes: control.retained, n: control.customers })
    : null;
  const revenuePerCustomer = comparable
    ? meanDifference(moments(treatedRows.map((r) => Number(r.revenue))), moments(controlRows.map((r) => Number(r.revenue))))
    : null;
  const incentiveCost = sumOf(false)?.group_incentive ?? '0';
  const incremental = retention && retention.estimate > 0 ? retention.estimate * treated.customers : null;
  return {
    versionId,
    policyKey: version.policy_key,
    version: version.version,
    horizonDays,
    maturedBefore: maturedBefore.toISOString(),
    treated,
    control,
    retention,
    revenuePerCustomer,
    incentiveCost,
    costPerIncrementalRetained: incremental ? (Number(incentiveCost) / incremental).toFixed(2) : null,
    method:
      'Normal approximation: Wald interval for the difference of retention rates, Welch for revenue per customer; ' +
      'sample size per group for 80% power at two-sided alpha 0.05 to detect the observed difference.',
  };
}

const CSV_COLUMNS = ['measure', 'treated', 'control', 'difference', 'lower_95', 'upper_95', 'conclusive', 'sample_size_per_group'];

const cell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The impact as CSV: one row per measure, then the group sizes and costs. */
export function impactCsv(i: PolicyImpact): string {
  const row = (measure: string, t: unknown, c: unknown, d: Difference | null) => [
    measure,
    t,
    c,
    d?.estimate,
    d?.lower,
    d?.upper,
    d?.conclusive,
    d?.sampleSizePerGroup,
  ];
  const rows = [
    CSV_COLUMNS,
    row('customers', i.treated.customers, i.control.customers, null),
    row('retention_rate', i.treated.retentionRate, i.control.retentionRate, i.retention),
    row('revenue_per_customer', i.treated.revenuePerCustomer, i.control.revenuePerCustomer, i.revenuePerCustomer),
    row('revenue_total', i.treated.revenue, i.control.revenue, null),
    row('incentive_cost', i.incentiveCost, '', null),
    row('cost_per_incremental_retained', i.costPerIncrementalRetained, '', null),
  ];
  return rows.map((r) => r.map(cell).join(',')).join('\n') + '\n';
}
