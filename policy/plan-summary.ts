import { fromCents } from './money';
import type { Plan, PlannedAction } from './plan';

/** Statuses that reach a customer (at once or after approval): what "customers reached" and incentive count. */
const REACHING = new Set<PlannedAction['status']>(['auto_approved', 'pending_approval']);

function count<K extends string>(into: Record<K, number>, key: K) {
  into[key] = (into[key] ?? 0) + 1;
}

/** What a plan does, in the shape owners read it: by action type and segment, reach, incentive and budget use. */
export function summarisePlan(plan: Plan) {
  const byType: Record<string, number> = {};
  const bySegment: Record<string, Record<string, number>> = {};
  const byStatus: Record<string, number> = {};
  const suppressedBy: Record<string, number> = {};
  let incentiveCents = 0;
  let reached = 0;
  for (const a of plan.actions) {
    count(byStatus, a.status);
    if (a.status === 'suppressed') count(suppressedBy, a.statusReason ?? 'unknown');
    if (!REACHING.has(a.status)) continue;
    reached += 1;
    incentiveCents += a.candidate.incentiveCents;
    count(byType, a.candidate.actionType);
    count((bySegment[a.context.facts.segment ?? 'unknown'] ??= {}), a.candidate.actionType);
  }
  return {
    customersEvaluated: plan.customersEvaluated,
    customersReached: reached,
    totalIncentive: fromCents(incentiveCents),
    actionsByType: byType,
    actionsBySegment: bySegment,
    byStatus,
    suppressedBy,
    budget: {
      period: plan.budget.period,
      remainingOverall: plan.budget.overall,
      remainingBySegment: plan.budget.segments,
      leftOut: plan.leftOutByBudget.length,
      moreBudget: plan.budget.moreBudget,
    },
  };
}
export type PlanSummary = ReturnType<typeof summarisePlan>;
