import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ActionDecision, ApprovalBatch } from '../approvals/action-approval';

const { openActionApprovals, carryOutActionDecision, escalateActionApprovals, expireActionApprovals } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
});

/**
 * A batch of actions waiting for a person: each one's type and incentive cap (for the validator), their expires_at
 * (no decision by then and an action expires, never delivered) and the hours without a decision after which the
 * waiting ones are escalated.
 */
export type ActionApprovalInput = Omit<ApprovalBatch, 'workflowId'>;

export type ActionApprovalStatus = 'waiting' | 'deciding' | 'approved' | 'rejected' | 'overridden' | 'expired' | 'not_pending';

/** The answer to one decision. */
export interface ActionApprovalResult {
  status: 'approved' | 'rejected' | 'overridden';
  actionId: number;
  decision: ActionDecision;
  /** Whether the approved action's webhook event was written, or what held it back. */
  release: { released: boolean; heldBy?: string } | null;
}

/** What became of the batch: the actions by their final status. */
export type ActionApprovalSummary = Partial<Record<Exclude<ActionApprovalStatus, 'waiting' | 'deciding'>, number[]>>;

/** The Update a person sends through the API: the action, and approve, reject or override with who, their role and why. */
export const decideActionUpdate = defineUpdate<ActionApprovalResult, [number, ActionDecision]>('decide');
export const actionApprovalStateQuery = defineQuery<
  { status: ActionApprovalStatus; escalated: boolean; expiresAt: string } | null,
  [number]
>('state');

/** The failure type of a decision refused by the Update's validator (nothing in the workflow changes). */
export const DECISION_REFUSED = 'DecisionRefused';

function refuse(message: string): never {
  throw ApplicationFailure.create({ type: DECISION_REFUSED, nonRetryable: true, message });
}

// Amounts as integer cents, as everywhere money is compared (workflow code cannot import policy/money.ts).
function cents(amount: unknown): number | null {
  const match = typeof amount === 'string' ? /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(amount) : null;
  return match ? Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0')) : null;
}

/**
 * A batch of high-impact actions waiting for people (ids `approval-<evaluationId>-<n>`, or `approval-action-<id>` for
 * one the API opens alone); each action is decided on its own. The `decide` Update's validator admits the owner (and
 * marketing for campaign actions), requires a reason to reject or override and keeps an override's amount within
 * the policy's cap, so a refused caller leaves no trace in the workflow. A decision is carried out with the action's
 * webhook event in one transaction; after escalateAfterHours the actions still waiting are escalated (flagged,
 * audited, subscribers notified); at expires_at they expire and are never delivered.
 */
export async function actionApprovalWorkflow(input: ActionApprovalInput): Promise<ActionApprovalSummary> {
  const { workflowId, runId, runStartTime } = workflowInfo();
  const items = new Map(input.actions.map((a) => [a.actionId, { action: a, status: 'waiting' as ActionApprovalStatus }]));
  let escalated = false;
  const undecided = (status: ActionApprovalStatus) => status === 'waiting' || status === 'deciding';
  const waiting = () => [...items].filter(([, i]) => i.status === 'waiting').map(([id]) => id);

  setHandler(actionApprovalStateQuery, (actionId) => {
    const item = items.get(actionId);
    return item ? { status: item.status, escalated, expiresAt: input.expiresAt } : null;
  });
  setHandler(
    decideActionUpdate,
    async (actionId, d) => {
      const item = items.get(actionId)!;
      item.status = 'deciding';
      try {
        const outcome = await carryOutActionDecision({ actionId, decision: d });
        item.status = outcome.approval;
        return { status: outcome.approval, actionId, decision: d, release: outcome.release };
      } catch (err) {
        item.status = 'waiting';
        throw err;
      }
    },
    {
      validator: (actionId, d) => {
        const item = items.get(actionId);
        if (item === undefined) refuse(`Action ${String(actionId)} is not in this approval batch`);
        const action = item.action;
        const type = action.actionType;
        if (d?.role !== 'owner' && !(d?.role === 'marketing' && type === 'campaign'))
          refuse(
            `Role ${d?.role ?? 'none'} may not decide a ${type} action: the owner decides${type === 'campaign' ? ' (or marketing)' : ''}`,
          );
        if (d.decision !== 'approve' && d.decision !== 'reject' && d.decision !== 'override')
          refuse(`decision must be approve, reject or override, got "${String(d.decision)}"`);
        if (typeof d.by !== 'string' || d.by.trim() === '') refuse('by: who decides is required');
        if (d.decision !== 'approve' && (typeof d.reason !== 'string' || d.reason.trim() === ''))
          refuse(`reason is required to ${d.decision}`);
        if (d.decision === 'override' && d.amount !== undefined) {
          const amount = cents(d.amount);
          const cap = cents(action.incentiveCap);
          if (amount === null) refuse('amount must be an amount like 12.50');
          if (cap === null || amount > cap)
            refuse(`amount ${d.amount} is above the policy's cap of ${action.incentiveCap ?? 'none (no incentive)'}`);
        }
        if (item.status !== 'waiting') refuse(`This action is already ${item.status === 'deciding' ? 'being decided' : item.status}`);
      },
    },
  );

  const { notPending } = await openActionApprovals({ actionIds: [...items.keys()], workflowId, deadlineAt: input.expiresAt });
  // A decision may have come before the approvals opened (its activity checks the action itself).
  for (const id of notPending) if (items.get(id)!.status === 'waiting') items.get(id)!.status = 'not_pending';

  const allDecided = () => [...items.values()].every((i) => !undecided(i.status));
  // Both waits count from the run's start (the escalation and the expiry are the same instants on a replay).
  const expiresInMs = Math.max(1, Date.parse(input.expiresAt) - runStartTime.getTime());
  const escalateInMs = input.escalateAfterHours * 3_600_000;
  let waited = 0;
  if (escalateInMs < expiresInMs && !(await condition(allDecided, escalateInMs))) {
    if (waiting().length > 0)
      await escalateActionApprovals({ actionIds: waiting(), afterHours: input.escalateAfterHours, workflowId, runId });
    escalated = true;
    waited = escalateInMs;
  }
  if (!allDecided() && !(await condition(allDecided, Math.max(1, expiresInMs - waited)))) {
    const expired = waiting();
    for (const id of expired) items.get(id)!.status = 'expired';
    if (expired.length > 0) await expireActionApprovals({ actionIds: expired, reason: 'no decision before the action expired' });
  }
  await condition(allHandlersFinished);
  const summary: ActionApprovalSummary = {};
  for (const [id, item] of items) (summary[item.status as keyof ActionApprovalSummary] ??= []).push(id);
  return summary;
}
