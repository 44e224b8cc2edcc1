import type { Knex } from 'knex';
import { ordersKnownUntil } from '../ingestion/outcomes-known-until';
import { csvText } from '../lib/csv';
import { NotFoundError, ValidationError } from '../lib/errors';
import { baselineComparison, type BaselineComparison } from './impact-baseline';
import { meanDifference, moments, proportionDifference, type Difference } from './impact-statistics';

const DAY_MS = 86_400_000;
/** Treated: the actions that went ahead (automatically or approved by a person). Control: the policy's holdout. */
export const TREATED_STATUSES: readonly string[] = ['auto_approved', 'approved'];
/** The rule-based baseline's threshold: the churn horizon the scores predict over (as in the backtest's baselines). */
const DEFAULT_RULE_THRESHOLD_DAYS = 90;

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
  /**
   * Outcomes are known up to here: the newest completed orders export (ingest_batches.exported_at), else the clock.
   * Not the clock itself: a decision counts only once the order data covers its whole horizon.
   */
  observedUntil: string;
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
  /** Revenue at risk of the customers the policy picked before the rule-based baseline would have (baseline.identifiedEarly). */
  revenueAtRiskIdentifiedEarly: string;
  /** The same customers against the rule-based targeting a shop without a model would use. */
  baseline: BaselineComparison;
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
export async function policyImpact(
  db: Knex,
  versionId: number,
  options: { horizonDays?: number; now?: Date; ruleThresholdDays?: number } = {},
): Promise<PolicyImpact> {
  const horizonDays = options.horizonDays ?? 90;
  if (!Number.isInteger(horizonDays) || horizonDays < 1 || horizonDays > 3650)
    throw new ValidationError(`horizonDays must be a whole number of days from 1 to 3650, got ${horizonDays}`, 'horizonDays');
  const ruleThresholdDays = options.ruleThresholdDays ?? DEFAULT_RULE_THRESHOLD_DAYS;
  if (!Number.isInteger(ruleThresholdDays) || ruleThresholdDays < 1 || ruleThresholdDays > 3650)
    throw new ValidationError(
      `ruleThresholdDays must be a whole number of days from 1 to 3650, got ${ruleThresholdDays}`,
      'ruleThresholdDays',
    );
  const version = (await db('policy_versions').where({ version_id: versionId }).first('policy_key', 'version')) as
    { policy_key: string; version: number } | undefined;
  if (!version) throw new NotFoundError(`No policy version ${versionId}`);
  const observedUntil = options.now ?? (await ordersKnownUntil(db)) ?? new Date();
  const maturedBefore = new Date(observedUntil.getTime() - horizonDays * DAY_MS);

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
  const baseline = await baselineComparison(db, versionId, {
    maturedBefore,
    horizonDays,
    thresholdDays: ruleThresholdDays,
    treatedStatuses: TREATED_STATUSES,
  });
  return {
    versionId,
    policyKey: version.policy_key,
    version: version.version,
    horizonDays,
    observedUntil: observedUntil.toISOString(),
    maturedBefore: maturedBefore.toISOString(),
    treated,
    control,
    retention,
    revenuePerCustomer,
    incentiveCost,
    costPerIncrementalRetained: incremental ? (Number(incentiveCost) / incremental).toFixed(2) : null,
    revenueAtRiskIdentifiedEarly: baseline.identifiedEarly.revenueAtRisk,
    baseline,
    method:
      'Normal approximation: Wald interval for the difference of retention rates, Welch for revenue per customer; ' +
      'sample size per group for 80% power at two-sided alpha 0.05 to detect the observed difference.',
  };
}

const CSV_COLUMNS = ['measure', 'treated', 'control', 'difference', 'lower_95', 'upper_95', 'conclusive', 'sample_size_per_group'];

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
    row('revenue_at_risk_identified_early', i.revenueAtRiskIdentifiedEarly, '', null),
  ];
  const b = i.baseline;
  const effect = (measure: string, e: BaselineComparison['effect']['alsoPickedByRule']) =>
    row(
      measure,
      e.treated.customers ? e.treated.retained / e.treated.customers : null,
      e.control.customers ? e.control.retained / e.control.customers : null,
      e.retention,
    );
  rows.push(
    [],
    ['baseline', 'customers', 'revenue_at_risk', 'retained', 'retention_rate'],
    ['policy_picks', b.policy.customers, b.policy.revenueAtRisk],
    [`rule_picks (${b.rule})`, b.rulePicks.customers, b.rulePicks.revenueAtRisk],
    ['picked_by_both', b.both.customers, b.both.revenueAtRisk],
    ['identified_early_by_policy', b.identifiedEarly.customers, b.identifiedEarly.revenueAtRisk],
    ['rule_picks_not_acted_on', b.ruleOnly.customers, b.ruleOnly.revenueAtRisk, b.ruleOnly.retained, b.ruleOnly.retentionRate],
    [],
    CSV_COLUMNS,
    effect('retention_rate_also_picked_by_rule', b.effect.alsoPickedByRule),
    effect('retention_rate_picked_by_model_only', b.effect.pickedByModelOnly),
  );
  return csvText(rows);
}

export interface ImpactVersion {
  versionId: number;
  policyKey: string;
  version: number;
  status: string;
  actions: number;
  holdout: number;
  firstDecidedAt: string;
  lastDecidedAt: string;
}

/** The policy versions that decided something, newest first: the ones an impact can be asked for. */
export async function impactVersions(db: Knex): Promise<ImpactVersion[]> {
  const rows = (await db('policy_versions as v')
    .join('actions as a', 'a.version_id', 'v.version_id')
    .groupBy('v.version_id', 'v.policy_key', 'v.version', 'v.status')
    .orderBy('v.version_id', 'desc')
    .select('v.version_id', 'v.policy_key', 'v.version', 'v.status')
    .select(
      db.raw('count(*)::int as actions'),
      db.raw('(count(*) filter (where a.holdout))::int as holdout'),
      db.raw('min(a.decided_at) as first_decided'),
      db.raw('max(a.decided_at) as last_decided'),
    )) as {
    version_id: number;
    policy_key: string;
    version: number;
    status: string;
    actions: number;
    holdout: number;
    first_decided: Date;
    last_decided: Date;
  }[];
  return rows.map((r) => ({
    versionId: Number(r.version_id),
    policyKey: r.policy_key,
    version: r.version,
    status: r.status,
    actions: r.actions,
    holdout: r.holdout,
    firstDecidedAt: r.first_decided.toISOString(),
    lastDecidedAt: r.last_decided.toISOString(),
  }));
}
