import type { Knex } from 'knex';
import { activeVersion, loadVersion } from './lifecycle';
import { fromCents } from './money';
import type { Plan, PlannedAction } from './plan';
import { planFromDatabase } from './plan-from-database';
import { summarisePlan } from './plan-summary';

const SAMPLE = 50;

/** An action as the simulation lists it (and as the tests compare it with what activation recorded). */
export function describeAction(a: PlannedAction) {
  return {
    customerId: a.context.facts.customerId,
    actionType: a.candidate.actionType,
    status: a.status,
    statusReason: a.statusReason,
    incentive: fromCents(a.candidate.incentiveCents),
    segment: a.context.facts.segment,
  };
}

/** Who gains, loses or changes action between the active version's plan and the candidate's (suppressed ones do not act). */
function difference(active: Plan, candidate: Plan) {
  const acting = (p: Plan) => new Map(p.actions.filter((a) => a.status !== 'suppressed').map((a) => [a.context.facts.customerId, a]));
  const before = acting(active);
  const after = acting(candidate);
  const gaining: string[] = [];
  const losing: string[] = [];
  const changing: { customerId: string; from: string; to: string }[] = [];
  for (const [id, a] of after) {
    const b = before.get(id);
    if (!b) gaining.push(id);
    else if (b.candidate.actionType !== a.candidate.actionType || b.candidate.incentiveCents !== a.candidate.incentiveCents)
      changing.push({
        customerId: id,
        from: `${b.candidate.actionType} ${fromCents(b.candidate.incentiveCents)}`,
        to: `${a.candidate.actionType} ${fromCents(a.candidate.incentiveCents)}`,
      });
  }
  for (const id of before.keys()) if (!after.has(id)) losing.push(id);
  return {
    gaining: { count: gaining.length, sample: gaining.slice(0, SAMPLE) },
    losing: { count: losing.length, sample: losing.slice(0, SAMPLE) },
    changing: { count: changing.length, sample: changing.slice(0, SAMPLE) },
  };
}

/**
 * What a version (usually a draft) would do on the latest published scores, computed by the same code as a real
 * evaluation (planFromDatabase) and written nowhere: its actions, summary, budget use, the customers the budget left
 * out and what more budget would buy, and the difference from the active version.
 */
export async function simulatePolicy(db: Knex, versionId: number, now = new Date()) {
  const version = await loadVersion(db, versionId);
  const { plan } = await planFromDatabase(db, version, now);
  const active = await activeVersion(db, version.policyKey);
  const comparison = active && active.versionId !== versionId ? (await planFromDatabase(db, active, now)).plan : null;
  return {
    versionId,
    policyKey: version.policyKey,
    status: version.status,
    summary: summarisePlan(plan),
    leftOutByBudget: plan.leftOutByBudget.slice(0, SAMPLE).map((l) => ({
      customerId: l.customerId,
      segment: l.segment,
      wanted: l.wanted.actionType,
      incentive: fromCents(l.wanted.incentiveCents),
      expectedValue: Math.round(l.wanted.expectedValue * 100) / 100,
      got: l.fallback?.actionType ?? null,
    })),
    actions: plan.actions.map(describeAction),
    comparedWith: active && comparison ? { versionId: active.versionId, version: active.version, ...difference(comparison, plan) } : null,
  };
}
