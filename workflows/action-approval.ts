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
import type { ActionDecision, ApprovalInput } from '../approvals/action-approval';

const { openActionApproval, carryOutActionDecision, escalateActionApproval, expireActionApproval } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
});

/**
 * The action, its type and incentive cap (for the validator), its expires_at (no decision by then and the action
 * expires, never delivered) and the hours without a decision after which the approval is escalated.
 */
export type ActionApprovalInput = ApprovalInput;

export type ActionApprovalStatus = 'waiting' | 'approved' | 'rejected' | 'overridden' | 'expired' | 'not_pending';

export interface ActionApprovalResult {
  status: Exclude<ActionApprovalStatus, 'waiting'>;
  actionId: number;
  decision: ActionDecision | null;
  /** Whether the approved action's webhook event was written, or what held it back. */
  release: { released: boolean; heldBy?: string } | null;
}

/** The Update a person sends through the API: approve, reject or override, with who, their role and why. */
export const decideActionUpdate = defineUpdate<ActionApprovalResult, [ActionDecision]>('decide');
export const actionApprovalStateQuery = defineQuery<{ status: ActionApprovalStatus; escalated: boolean; expiresAt: string }>('state');

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
 * One high-impact action waiting for a person (id `approval-action-<actionId>`). The `decide` Update's validator
 * admits the owner (and marketing for campaign actions), requires a reason to reject or override and keeps an
 * override's amount within the policy's cap, so a refused caller leaves no trace in the workflow. The decision is
 * carried out with the action's webhook event in one transaction; after escalateAfterHours the approval is escalated;
 * at the action's expiry it expires and is never delivered.
 */
export async function actionApprovalWorkflow(input: ActionApprovalInput): Promise<ActionApprovalResult> {
  const { workflowId, runStartTime } = workflowInfo();
  let decision: ActionDecision | null = null;
  let result: ActionApprovalResult | undefined;
  let escalated = false;

  setHandler(actionApprovalStateQuery, () => ({ status: result?.status ?? 'waiting', escalated, expiresAt: input.expiresAt }));
  setHandler(
    decideActionUpdate,
    async (d) => {
      decision = d;
      await condition(() => result !== undefined);
      return result!;
    },
    {
      validator: (d) => {
        const type = input.actionType;
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
          const cap = cents(action?.incentiveCap ?? null);
          if (amount === null) refuse('amount must be an amount like 12.50');
          if (cap === null || amount > cap)
            refuse(`amount ${d.amount} is above the policy's cap of ${action?.incentiveCap ?? 'none (no incentive)'}`);
        }
        if (action === undefined) refuse('The approval is not open yet; retry in a moment');
        if (decision !== null || result !== undefined) refuse(`This action is already ${result?.status ?? 'decided'}`);
      },
    },
  );

  const action = await openActionApproval({ actionId: input.actionId, workflowId, deadlineAt: input.expiresAt });
  if (action.status !== 'pending_approval') {
    result = { status: 'not_pending', actionId: input.actionId, decision: null, release: null };
    return result;
  }

  const start = runStartTime.getTime();
  const expiresInMs = Math.max(0, Date.parse(input.expiresAt) - start);
  const escalateInMs = input.escalateAfterHours * 3_600_000;
  if (escalateInMs < expiresInMs && !(await condition(() => decision !== null, escalateInMs))) {
    await escalateActionApproval({ actionId: input.actionId, afterHours: input.escalateAfterHours });
    escalated = true;
  }
  if (decision === null && !(await condition(() => decision !== null, Math.max(0, expiresInMs - (escalated ? escalateInMs : 0))))) {
    await expireActionApproval({ actionId: input.actionId, reason: 'no decision before the action expired' });
    result = { status: 'expired', actionId: input.actionId, decision: null, release: null };
    return result;
  }
  const d = decision!;
  const outcome = await carryOutActionDecision({ actionId: input.actionId, decision: d });
  result = { status: outcome.approval, actionId: input.actionId, decision: d, release: outcome.release };
  await condition(allHandlersFinished);
  return result;
}
