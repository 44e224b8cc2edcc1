import type { Knex } from 'knex';
import { NotFoundError } from '../lib/errors';

/**
 * One action's whole story in one read: the scores and model versions that drove it, the rule, policy version,
 * facts and thresholds it matched (the trace), the approval (who, when, what changed, why) and every delivery
 * attempt of its webhook event with the receiver's answer.
 */
export async function getDecisionRecord(db: Knex, actionId: number) {
  const action = (await db('actions').where({ action_id: actionId }).first()) as Record<string, unknown> | undefined;
  if (!action) throw new NotFoundError(`Unknown action ${actionId}`);
  const decision = (await db('decisions as d')
    .join('policy_versions as v', 'v.version_id', 'd.version_id')
    .join('scoring_runs as r', 'r.run_id', 'd.scoring_run_id')
    .where('d.decision_id', action.decision_id as string)
    .first(
      'd.*',
      'v.policy_key',
      'v.version',
      'v.status as version_status',
      'v.approved_by as version_approved_by',
      'r.as_of as scores_as_of',
    )) as Record<string, unknown>;
  const facts = decision.facts as Record<string, unknown>;
  const approval = (await db('action_approvals').where({ action_id: actionId }).first()) as Record<string, unknown> | undefined;
  const deliveries = (await db('webhook_events as e')
    .join('webhook_deliveries as d', 'd.event_id', 'e.event_id')
    .join('webhook_subscriptions as s', 's.subscription_id', 'd.subscription_id')
    .where('e.dedupe_key', `action:${actionId}`)
    .orderBy('d.delivery_id')
    .select('d.delivery_id', 'd.webhook_id', 'd.status', 'd.delivered_at', 'e.event_id', 'e.type', 's.subscription_id', 's.url')) as Record<
    string,
    unknown
  >[];
  const attempts = deliveries.length
    ? ((await db('webhook_delivery_attempts')
        .whereIn(
          'delivery_id',
          deliveries.map((d) => d.delivery_id as string),
        )
        .orderBy(['delivery_id', 'series', 'attempt'])) as Record<string, unknown>[])
    : [];
  const event = (await db('webhook_events')
    .where({ dedupe_key: `action:${actionId}` })
    .first('event_id', 'created_at')) as { event_id: string; created_at: Date } | undefined;
  return {
    action: {
      actionId,
      customerId: action.customer_id,
      actionType: action.action_type,
      segment: action.segment,
      campaign: action.campaign,
      status: action.status,
      statusReason: action.status_reason,
      incentiveAmount: action.incentive_amount,
      expectedValue: action.expected_value,
      parameters: action.parameters,
      decidedAt: action.decided_at,
      expiresAt: action.expires_at,
    },
    scores: {
      scoringRunId: Number(decision.scoring_run_id),
      asOf: decision.scores_as_of,
      modelVersions: decision.model_versions,
      churnProbability: facts.churnProbability ?? null,
      riskBand: facts.riskBand ?? null,
      clvExpected: facts.clvExpected ?? null,
      clvLower: facts.clvLower ?? null,
      pAlive: facts.pAlive ?? null,
      confidence: facts.confidence ?? null,
    },
    trace: {
      ...(decision.trace as Record<string, unknown>),
      decisionId: Number(decision.decision_id),
      policy: {
        key: decision.policy_key,
        version: decision.version,
        versionId: Number(decision.version_id),
        approvedBy: decision.version_approved_by,
      },
      facts,
    },
    approval: approval
      ? {
          status: approval.status,
          openedAt: approval.opened_at,
          escalatedAt: approval.escalated_at,
          decidedBy: approval.decided_by,
          decidedRole: approval.decided_role,
          decidedAt: approval.decided_at,
          reason: approval.reason,
          before: approval.before,
          after: approval.after,
        }
      : { status: action.status === 'auto_approved' ? 'auto_approved' : 'none', reason: action.status_reason },
    delivery: {
      eventId: event?.event_id ?? null,
      enqueuedAt: event?.created_at ?? null,
      deliveries: deliveries.map((d) => ({
        deliveryId: Number(d.delivery_id),
        webhookId: d.webhook_id,
        subscriptionId: Number(d.subscription_id),
        url: d.url,
        status: d.status,
        deliveredAt: d.delivered_at,
        attempts: attempts
          .filter((a) => a.delivery_id === d.delivery_id)
          .map((a) => ({
            series: a.series,
            attempt: a.attempt,
            attemptedAt: a.attempted_at,
            durationMs: a.duration_ms,
            statusCode: a.status_code,
            response: a.response_excerpt,
            error: a.error,
            outcome: a.outcome,
          })),
      })),
    },
  };
}
