import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { ConflictError } from '../lib/errors';
import type { Actor } from './actor';
import { activeVersion } from './lifecycle';
import { fromCents } from './money';
import type { PlannedAction } from './plan';
import { planFromDatabase } from './plan-from-database';
import { summarisePlan, type PlanSummary } from './plan-summary';

const DAY_MS = 86_400_000;
const CHUNK = 1000;

export interface Evaluation {
  evaluationId: number;
  versionId: number;
  summary: PlanSummary;
}

/**
 * Runs in the evaluation's transaction once its actions are written: a later step (delivery/action-release.ts) adds
 * the webhook events of the auto-approved actions there, so a decision and its event commit together.
 */
export type AfterRecord = (trx: Knex.Transaction, evaluationId: number) => Promise<void>;

/** The decision record's first half: what drove the action (rule, conditions and thresholds, candidates). */
function trace(a: PlannedAction, version: { versionId: number; version: number; policyKey: string }) {
  return {
    policy: { key: version.policyKey, version: version.version, versionId: version.versionId },
    rule: a.candidate.rule,
    actionType: a.candidate.actionType,
    conditions: a.conditions,
    expectedValue: a.candidate.expectedValue,
    arbitration: a.arbitration,
  };
}

/** What the caller means to evaluate: `scoringRunId`, the run whose scores it is about (the daily pipeline's run). */
export interface EvaluationTarget {
  scoringRunId?: number;
}

/**
 * Runs the policy's active version on the latest published scores and records, in one transaction, the evaluation,
 * one decision (facts and trace) and one action per customer acted on. Evaluations of one policy are serialised
 * (a transaction-scoped advisory lock: workers may not update policies), so two runs cannot both spend the same budget.
 * With a target run, the evaluation is refused when the latest published scores are another run's (a newer as-of was
 * published meanwhile): that run's own evaluation acts on it.
 */
export async function evaluatePolicy(
  db: Knex,
  policyKey: string,
  actor: Actor,
  now = new Date(),
  afterRecord?: AfterRecord,
  target: EvaluationTarget = {},
): Promise<Evaluation> {
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`policy:${policyKey}`]);
    const version = await activeVersion(trx, policyKey);
    if (!version) throw new ConflictError(`Policy ${policyKey} has no active version: approve and activate one first`);
    const { plan, loaded } = await planFromDatabase(trx, version, now);
    if (loaded.scoringRunId === null) throw new ConflictError('There are no published scores to evaluate the policy on');
    if (target.scoringRunId !== undefined && loaded.scoringRunId !== target.scoringRunId)
      throw new ConflictError(
        `scoringRunId: run ${target.scoringRunId} is not the latest published scores (run ${loaded.scoringRunId} is): not evaluated`,
        { scoringRunId: target.scoringRunId, latest: loaded.scoringRunId },
      );
    const summary = summarisePlan(plan);
    const [evaluation] = await trx('policy_evaluations')
      .insert({
        version_id: version.versionId,
        policy_key: policyKey,
        scoring_run_id: loaded.scoringRunId,
        as_of: loaded.asOf,
        started_by: actor.name,
        evaluated_at: now,
        summary: JSON.stringify(summary),
      })
      .returning<{ evaluation_id: string }[]>('evaluation_id');
    const evaluationId = Number(evaluation!.evaluation_id);
    const expiresAt = new Date(now.getTime() + version.parameters.actionValidityDays * DAY_MS);

    for (let start = 0; start < plan.actions.length; start += CHUNK) {
      const chunk = plan.actions.slice(start, start + CHUNK);
      const decisions = await trx('decisions')
        .insert(
          chunk.map((a) => ({
            evaluation_id: evaluationId,
            customer_id: a.context.facts.customerId,
            version_id: version.versionId,
            scoring_run_id: loaded.runOf.get(a.context.facts.customerId)!,
            model_versions: JSON.stringify(a.context.modelVersions),
            facts: JSON.stringify(a.context.facts),
            trace: JSON.stringify(trace(a, version)),
            decided_at: now,
          })),
        )
        .returning<{ decision_id: string; customer_id: string }[]>(['decision_id', 'customer_id']);
      const decisionOf = new Map(decisions.map((d) => [d.customer_id, d.decision_id]));
      await trx('actions').insert(
        chunk.map((a) => ({
          decision_id: decisionOf.get(a.context.facts.customerId)!,
          customer_id: a.context.facts.customerId,
          policy_key: policyKey,
          version_id: version.versionId,
          action_type: a.candidate.actionType,
          segment: a.context.facts.segment,
          campaign: a.candidate.campaign,
          parameters: JSON.stringify(a.parameters),
          incentive_amount: fromCents(a.candidate.incentiveCents),
          expected_value: a.candidate.expectedValue.toFixed(2),
          holdout: a.status === 'holdout',
          status: a.status,
          status_reason: a.statusReason,
          decided_at: now,
          expires_at: expiresAt,
          status_changed_at: now,
        })),
      );
    }
    await afterRecord?.(trx, evaluationId);
    await recordAudit(trx, {
      actor: actor.name,
      role: actor.role,
      action: 'policy.evaluated',
      target: `policy:${policyKey}:v${version.version}`,
      details: { evaluationId, customersReached: summary.customersReached, totalIncentive: summary.totalIncentive },
    });
    return { evaluationId, versionId: version.versionId, summary };
  });
}
