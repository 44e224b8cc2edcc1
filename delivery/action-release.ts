import type { Knex } from 'knex';
import { approvalInput, decideAction, type ActionDecision, type ApprovalInput, type DecisionOutcome } from '../approvals/action-approval';
import type { Actor } from '../policy/actor';
import { evaluatePolicy, type Evaluation } from '../policy/evaluate-policy';
import { killSwitchOn } from '../policy/kill-switch';
import { enqueueEvent } from './outbox';

/**
 * Releasing an approved action to the campaign systems: its `action.approved` webhook event is written in the
 * transaction that approved it (a person's decision, or an evaluation's automatic approval), so the two commit
 * together. An action is held back, with no event, when the policy kill switch is on, the customer is in the holdout,
 * or a suppression (customer, segment or campaign) is active.
 */
export const ACTION_APPROVED = 'action.approved';

export type Release =
  { released: true; eventId: string } | { released: false; heldBy: 'not_approved' | 'holdout' | 'kill_switch' | 'suppression' };

interface ActionRow {
  action_id: string;
  customer_id: string;
  policy_key: string;
  action_type: string;
  segment: string | null;
  campaign: string;
  parameters: Record<string, unknown>;
  incentive_amount: string;
  expected_value: string;
  holdout: boolean;
  status: string;
  expires_at: Date;
}

async function suppressed(trx: Knex.Transaction, a: ActionRow): Promise<boolean> {
  const row = await trx('suppressions')
    .whereNull('lifted_at')
    .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', trx.fn.now()))
    .where((q) => {
      q.where({ scope: 'customer', value: a.customer_id }).orWhere({ scope: 'campaign', value: a.campaign });
      if (a.segment !== null) q.orWhere({ scope: 'segment', value: a.segment });
    })
    .first('suppression_id');
  return row !== undefined;
}

export async function releaseAction(trx: Knex.Transaction, actionId: number): Promise<Release> {
  const a = (await trx('actions').where({ action_id: actionId }).first()) as ActionRow | undefined;
  if (!a || (a.status !== 'approved' && a.status !== 'auto_approved')) return { released: false, heldBy: 'not_approved' };
  if (a.holdout) return { released: false, heldBy: 'holdout' };
  if (await killSwitchOn(trx)) return { released: false, heldBy: 'kill_switch' };
  if (await suppressed(trx, a)) return { released: false, heldBy: 'suppression' };
  const event = await enqueueEvent(trx, {
    type: ACTION_APPROVED,
    dedupeKey: `action:${actionId}`,
    data: {
      actionId: Number(a.action_id),
      customerId: a.customer_id,
      policyKey: a.policy_key,
      actionType: a.action_type,
      segment: a.segment,
      campaign: a.campaign,
      incentiveAmount: a.incentive_amount,
      expectedValue: a.expected_value,
      parameters: a.parameters,
      approval: a.status,
      expiresAt: a.expires_at.toISOString(),
    },
  });
  return { released: true, eventId: event.eventId };
}

/** A person's decision and, when it approves, the action's webhook event: one transaction. */
export async function decideAndRelease(
  db: Knex,
  actionId: number,
  d: ActionDecision,
): Promise<DecisionOutcome & { release: Release | null }> {
  return db.transaction(async (trx) => {
    const outcome = await decideAction(trx, actionId, d);
    const release = outcome.status === 'approved' ? await releaseAction(trx, actionId) : null;
    return { ...outcome, release };
  });
}

/**
 * Evaluates a policy and, in the same transaction, writes the events of its auto-approved actions. Returns the
 * evaluation and the actions waiting for a person (each gets an approval workflow).
 */
export async function evaluateAndRelease(
  db: Knex,
  policyKey: string,
  actor: Actor,
  now = new Date(),
): Promise<Evaluation & { released: number; pending: ApprovalInput[] }> {
  let released = 0;
  const evaluation = await evaluatePolicy(db, policyKey, actor, now, async (trx, evaluationId) => {
    const auto = (await trx('actions as a')
      .join('decisions as d', 'd.decision_id', 'a.decision_id')
      .where({ 'd.evaluation_id': evaluationId, 'a.status': 'auto_approved' })
      .orderBy('a.action_id')
      .select('a.action_id')) as { action_id: string }[];
    for (const { action_id } of auto) if ((await releaseAction(trx, Number(action_id))).released) released++;
  });
  const pending = (await db('actions as a')
    .join('decisions as d', 'd.decision_id', 'a.decision_id')
    .where({ 'd.evaluation_id': evaluation.evaluationId, 'a.status': 'pending_approval' })
    .orderBy('a.action_id')
    .select('a.action_id')) as { action_id: string }[];
  return {
    ...evaluation,
    released,
    pending: await Promise.all(pending.map((p) => approvalInput(db, Number(p.action_id)))),
  };
}
