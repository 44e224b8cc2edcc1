import type { Knex } from 'knex';
import { RecencyRuleBaseline } from '../models/churn/baselines';
import { proportionDifference, type Difference } from './impact-statistics';

/** Customers and their revenue at risk (Σ P(churn) × CLV at the evaluation, summed in numeric: a decimal string). */
export interface TargetedGroup {
  customers: number;
  revenueAtRisk: string;
}

/** Treated against control within a part of the policy's cohort. */
export interface SubgroupEffect {
  treated: { customers: number; retained: number };
  control: { customers: number; retained: number };
  /** Treated minus control retention rate with its 95 % interval; null while either group has fewer than 2. */
  retention: Difference | null;
}

/**
 * The policy against a rule-based targeting on the same customers at the same moment: the recency rule of
 * models/churn/baselines.ts (RecencyRuleBaseline: no completed order for over `thresholdDays`, or none at all), the
 * targeting a shop without a model does. Both see what the scores knew: recency is measured at the evaluation's as-of.
 */
export interface BaselineComparison {
  rule: string;
  thresholdDays: number;
  /** Customers scored in the scoring runs the version's matured evaluations read (each once, at its first). */
  population: number;
  /** The policy's cohort: customers whose first action under the version went ahead or was held out. */
  policy: TargetedGroup;
  /** Customers the rule flags. */
  rulePicks: TargetedGroup;
  /** Flagged by both. */
  both: TargetedGroup;
  /** Picked by the policy while the rule did not flag them yet (they were still buying): identified early. */
  identifiedEarly: TargetedGroup;
  /**
   * The rule's picks the policy did not act on: they got nothing, so their realised retention over the horizon (after
   * the evaluation) says how many of the rule's alarms would have stayed anyway.
   */
  ruleOnly: TargetedGroup & { retained: number; retentionRate: number | null };
  /** The holdout comparison split by whether the rule would also have picked the customer. */
  effect: { alsoPickedByRule: SubgroupEffect; pickedByModelOnly: SubgroupEffect };
}

interface ComparisonRow {
  population: number;
  policy_n: number;
  policy_at_risk: string;
  rule_n: number;
  rule_at_risk: string;
  both_n: number;
  both_at_risk: string;
  early_n: number;
  early_at_risk: string;
  rule_only_n: number;
  rule_only_at_risk: string;
  rule_only_retained: number;
  treated_rule_n: number;
  treated_rule_retained: number;
  control_rule_n: number;
  control_rule_retained: number;
  treated_model_n: number;
  treated_model_retained: number;
  control_model_n: number;
  control_model_retained: number;
}

function effect(treated: { customers: number; retained: number }, control: { customers: number; retained: number }): SubgroupEffect {
  const comparable = treated.customers >= 2 && control.customers >= 2;
  return {
    treated,
    control,
    retention: comparable
      ? proportionDifference({ successes: treated.retained, n: treated.customers }, { successes: control.retained, n: control.customers })
      : null,
  };
}

/** Revenue at risk of the customers matching `where`, summed in numeric. */
const atRisk = (where: string) => `round(coalesce(sum(at_risk) filter (where ${where}), 0), 2)::text`;

/**
 * Compares a policy version's targeting with the recency rule's, over the version's evaluations decided before
 * `maturedBefore`. Retained means the same as in policyImpact: a non-cancelled order within the horizon after the
 * customer's decision (or, for a customer the policy did not act on, after the evaluation).
 */
export async function baselineComparison(
  db: Knex,
  versionId: number,
  options: { maturedBefore: Date; horizonDays: number; thresholdDays: number; treatedStatuses: readonly string[] },
): Promise<BaselineComparison> {
  const rule = new RecencyRuleBaseline(options.thresholdDays);
  const row = (
    await db.raw<{ rows: ComparisonRow[] }>(
      `with evaluation as (
         select evaluation_id, scoring_run_id, as_of, evaluated_at from policy_evaluations
          where version_id = :versionId and evaluated_at <= :maturedBefore),
       population as (
         select distinct on (s.customer_id) s.customer_id, e.as_of, e.evaluated_at,
                s.churn_probability::numeric * s.clv_expected_net_revenue as at_risk
           from evaluation e join customer_risk_scores s on s.run_id = e.scoring_run_id
          order by s.customer_id, e.evaluated_at, e.evaluation_id),
       first_action as (
         select distinct on (customer_id) customer_id, holdout, status, decided_at
           from actions where version_id = :versionId and decided_at <= :maturedBefore
          order by customer_id, decided_at, action_id),
       arm as (
         select p.customer_id, p.as_of, p.at_risk, coalesce(a.decided_at, p.evaluated_at) as start_at,
                case when a.holdout then 'control' when a.status = any(:treated) then 'treated' end as arm
           from population p left join first_action a using (customer_id)),
       classified as (
         select m.arm, m.at_risk, m.arm is not null as policy_pick,
                -- RecencyRuleBaseline: days since the last completed order over the threshold, or no such order.
                coalesce((select extract(epoch from (m.as_of - max(o.ordered_at))) / 86400 > :threshold
                            from orders o
                           where o.customer_id = m.customer_id and o.status = 'completed' and o.ordered_at <= m.as_of
                          having count(*) > 0), true) as rule_pick,
                exists (select 1 from orders o
                         where o.customer_id = m.customer_id and o.status <> 'cancelled'
                           and o.ordered_at > m.start_at and o.ordered_at <= m.start_at + make_interval(days => :horizonDays)) as retained
           from arm m)
       select count(*)::int as population,
              count(*) filter (where policy_pick)::int as policy_n, ${atRisk('policy_pick')} as policy_at_risk,
              count(*) filter (where rule_pick)::int as rule_n, ${atRisk('rule_pick')} as rule_at_risk,
              count(*) filter (where policy_pick and rule_pick)::int as both_n,
              ${atRisk('policy_pick and rule_pick')} as both_at_risk,
              count(*) filter (where policy_pick and not rule_pick)::int as early_n,
              ${atRisk('policy_pick and not rule_pick')} as early_at_risk,
              count(*) filter (where rule_pick and not policy_pick)::int as rule_only_n,
              ${atRisk('rule_pick and not policy_pick')} as rule_only_at_risk,
              count(*) filter (where rule_pick and not policy_pick and retained)::int as rule_only_retained,
              count(*) filter (where arm = 'treated' and rule_pick)::int as treated_rule_n,
              count(*) filter (where arm = 'treated' and rule_pick and retained)::int as treated_rule_retained,
              count(*) filter (where arm = 'control' and rule_pick)::int as control_rule_n,
              count(*) filter (where arm = 'control' and rule_pick and retained)::int as control_rule_retained,
              count(*) filter (where arm = 'treated' and not rule_pick)::int as treated_model_n,
              count(*) filter (where arm = 'treated' and not rule_pick and retained)::int as treated_model_retained,
              count(*) filter (where arm = 'control' and not rule_pick)::int as control_model_n,
              count(*) filter (where arm = 'control' and not rule_pick and retained)::int as control_model_retained
         from classified`,
      {
        versionId,
        maturedBefore: options.maturedBefore,
        horizonDays: options.horizonDays,
        threshold: rule.thresholdDays,
        treated: [...options.treatedStatuses],
      },
    )
  ).rows[0]!;
  const group = (customers: number, revenueAtRisk: string): TargetedGroup => ({ customers, revenueAtRisk });
  return {
    rule: rule.name,
    thresholdDays: rule.thresholdDays,
    population: row.population,
    policy: group(row.policy_n, row.policy_at_risk),
    rulePicks: group(row.rule_n, row.rule_at_risk),
    both: group(row.both_n, row.both_at_risk),
    identifiedEarly: group(row.early_n, row.early_at_risk),
    ruleOnly: {
      ...group(row.rule_only_n, row.rule_only_at_risk),
      retained: row.rule_only_retained,
      retentionRate: row.rule_only_n ? row.rule_only_retained / row.rule_only_n : null,
    },
    effect: {
      alsoPickedByRule: effect(
        { customers: row.treated_rule_n, retained: row.treated_rule_retained },
        { customers: row.control_rule_n, retained: row.control_rule_retained },
      ),
      pickedByModelOnly: effect(
        { customers: row.treated_model_n, retained: row.treated_model_retained },
        { customers: row.control_model_n, retained: row.control_model_retained },
      ),
    },
  };
}
