import type { Knex } from 'knex';
import {
  decideAction,
  escalateActions,
  openEvaluationApprovals,
  type ActionDecision,
  type ApprovalBatch,
  type DecisionOutcome,
} from '../approvals/action-approval';
import { ConflictError } from '../lib/errors';
import type { Actor } from '../policy/actor';
import { evaluatePolicy, type Evaluation, type EvaluationTarget } from '../policy/evaluate-policy';
import { killSwitchOn } from '../policy/kill-switch';
import { enqueueEvent } from './outbox';

/**
 * Releasing approved actions to the campaign systems: an action's `action.approved` webhook event is written in the
 * transaction that approved it (a person's decision, or an evaluation's automatic approval), so the two commit
 * together. An action is held back, with no event, while the policy kill switch is on or a suppression (customer,
 * segment or campaign) is active; `actions.held_by` says which, so lifting the kill switch releases exactly what it
 * held (delivery/kill-switch-release.ts).
 */
export const ACTION_APPROVED = 'action.approved';
/** The notice to subscribers that approvals waited past the policy's escalateAfterHours. */
export const APPROVALS_ESCALATED = 'approval.escalated';

export type HeldBy = 'kill_switch' | 'suppression';
export type Release = { released: true; eventId: string } | { released: false; heldBy: 'not_approved' | HeldBy };

const APPROVED = ['approved', 'auto_approved'];

/** An active suppression of the action's customer, campaign or segment. */
const SUPPRESSED = `exists (select 1 from suppressions s
                     where s.lifted_at is null and (s.expires_at is null or s.expires_at > now())
                       and ((s.scope = 'customer' and s.value = a.customer_id) or (s.scope = 'campaign' and s.value = a.campaign)
                            or (s.scope = 'segment' and s.value = a.segment)))`;

const ids = (rows: { action_id: string }[]) => rows.map((r) => Number(r.action_id));

/**
 * Releases approved actions in a few set-based statements (an evaluation releases thousands): held by the kill
 * switch while it is on, by an active suppression, or released with one event each (dedupe key `action:<id>`, so a
 * retry does not notify twice). Returns each action's release.
 */
export async function releaseActions(trx: Knex.Transaction, actionIds: number[]): Promise<Map<number, Release>> {
  const releases = new Map<number, Release>(actionIds.map((id) => [id, { released: false, heldBy: 'not_approved' }]));
  const approved = ids(
    await trx('actions')
      .whereRaw('action_id = any(?::bigint[])', [actionIds])
      .whereIn('status', APPROVED)
      .where({ holdout: false })
      .select('action_id'),
  );
  if (approved.length === 0) return releases;
  const hold = async (heldBy: HeldBy, where: string) =>
    ids(
      await trx
        .raw(`update actions a set held_by = ? where a.action_id = any(?::bigint[]) and ${where} returning a.action_id`, [heldBy, approved])
        .then((r: { rows: { action_id: string }[] }) => r.rows),
    );
  const killSwitch = await killSwitchOn(trx);
  const heldBy: HeldBy = killSwitch ? 'kill_switch' : 'suppression';
  const held = await hold(heldBy, killSwitch ? 'true' : SUPPRESSED);
  for (const id of held) releases.set(id, { released: false, heldBy });
  const heldSet = new Set(held);
  const release = approved.filter((id) => !heldSet.has(id));
  if (release.length === 0) return releases;
  // The event's data is the action as approved; timestamps in the ISO form JavaScript writes elsewhere.
  await trx.raw(
    `insert into webhook_events (event_id, type, data, dedupe_key)
     select 'evt_' || replace(gen_random_uuid()::text, '-', ''), ?,
            jsonb_build_object('actionId', a.action_id, 'customerId', a.customer_id, 'policyKey', a.policy_key,
              'actionType', a.action_type, 'segment', a.segment, 'campaign', a.campaign,
              'incentiveAmount', a.incentive_amount::text, 'expectedValue', a.expected_value::text,
              'parameters', a.parameters, 'approval', a.status,
              'expiresAt', to_char(a.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
            'action:' || a.action_id
       from actions a where a.action_id = any(?::bigint[]) order by a.action_id
     on conflict (dedupe_key) do nothing`,
    [ACTION_APPROVED, release],
  );
  await trx.raw(`update actions set held_by = null where action_id = any(?::bigint[]) and held_by is not null`, [release]);
  const events = (await trx('webhook_events')
    .whereIn(
      'dedupe_key',
      release.map((id) => `action:${id}`),
    )
    .select('event_id', 'type', 'dedupe_key')) as { event_id: string; type: string; dedupe_key: string }[];
  for (const e of events) {
    if (e.type !== ACTION_APPROVED)
      throw new ConflictError(`dedupeKey ${e.dedupe_key} already names a ${e.type} event`, { dedupeKey: e.dedupe_key });
    releases.set(Number(e.dedupe_key.slice('action:'.length)), { released: true, eventId: e.event_id });
  }
  return releases;
}

/** A person's decision and, when it approves, the action's webhook event: one transaction. */
export async function decideAndRelease(
  db: Knex,
  actionId: number,
  d: ActionDecision,
): Promise<DecisionOutcome & { release: Release | null }> {
  return db.transaction(async (trx) => {
    const outcome = await decideAction(trx, actionId, d);
    const release = outcome.status === 'approved' ? (await releaseActions(trx, [actionId])).get(actionId)! : null;
    return { ...outcome, release };
  });
}

/**
 * Evaluates a policy and, in the same transaction, writes the events of its auto-approved actions and opens the
 * approvals of the actions waiting for a person. Returns the evaluation and the approval batches (each gets a
 * workflow).
 */
export async function evaluateAndRelease(
  db: Knex,
  policyKey: string,
  actor: Actor,
  now = new Date(),
  target: EvaluationTarget = {},
): Promise<Evaluation & { released: number; approvals: ApprovalBatch[] }> {
  let released = 0;
  let approvals: ApprovalBatch[] = [];
  const evaluation = await evaluatePolicy(
    db,
    policyKey,
    actor,
    now,
    async (trx, evaluationId) => {
      const auto = ids(
        await trx('actions as a')
          .join('decisions as d', 'd.decision_id', 'a.decision_id')
          .where({ 'd.evaluation_id': evaluationId, 'a.status': 'auto_approved' })
          .orderBy('a.action_id')
          .select('a.action_id'),
      );
      for (const release of (await releaseActions(trx, auto)).values()) if (release.released) released++;
      approvals = await openEvaluationApprovals(trx, evaluationId);
    },
    target,
  );
  return { ...evaluation, released, approvals };
}

/**
 * Escalates a batch's approvals still waiting and, in the same transaction, notifies subscribers of
 * `approval.escalated` once for them (dedupe key per workflow run). Returns the escalated actions.
 */
export async function escalateAndNotify(
  db: Knex,
  input: { actionIds: number[]; afterHours: number; workflowId: string; runId: string },
): Promise<number[]> {
  return db.transaction(async (trx) => {
    const escalated = await escalateActions(trx, input);
    if (escalated.length > 0)
      await enqueueEvent(trx, {
        type: APPROVALS_ESCALATED,
        dedupeKey: `approval.escalated:${input.runId}`,
        data: { actionIds: escalated, count: escalated.length, afterHours: input.afterHours, approvalWorkflow: input.workflowId },
      });
    return escalated;
  });
}
