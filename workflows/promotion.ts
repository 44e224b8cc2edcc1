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
import type { PromotionDecision, PromotionStatus } from '../approvals/model-promotion';

const { openPromotion, carryOutDecision, closePromotion } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
});

/** 72 hours: a working weekend's worth of time for the ML team to look at the shadow report. */
export const DEFAULT_DEADLINE_SECONDS = 72 * 3600;

export interface PromotionInput {
  candidateId: number;
  /** How long to wait for a decision before the promotion expires; default 72 h. */
  deadlineSeconds?: number;
  /** Promote even without a finished shadow report; the reason is recorded. */
  force?: { reason: string };
}

export interface PromotionResult {
  status: Exclude<PromotionStatus, 'waiting'>;
  candidateId: number;
  decision: PromotionDecision | null;
  reason: string;
}

/** The Update a person sends: approve or reject, with who and why. Answers with the promotion's outcome. */
export const decideUpdate = defineUpdate<PromotionResult, [PromotionDecision]>('decide');
export const promotionStateQuery = defineQuery<{ status: PromotionStatus; deadlineAt: string; decision: PromotionDecision | null }>(
  'state',
);

/** The failure type of a decision refused by the Update's validator (nothing in the workflow changes). */
export const DECISION_REFUSED = 'DecisionRefused';

function refuse(message: string): never {
  throw ApplicationFailure.create({ type: DECISION_REFUSED, nonRetryable: true, message });
}

/**
 * Waits for a person's decision on a candidate model, sent as the `decide` Update; only the ML role may decide
 * (checked in the validator, so a refused caller leaves no trace in the workflow). Approval makes the candidate
 * champion and retires the previous one, audited with the decider as actor; rejection retires the candidate. No
 * decision by the deadline: the promotion expires. Without a finished shadow report it refuses to wait at all, unless
 * forced with a reason. Start it with the id `promotion-<candidateId>`.
 */
export async function promotionWorkflow(input: PromotionInput): Promise<PromotionResult> {
  const { workflowId } = workflowInfo();
  const deadlineMs = (input.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS) * 1000;
  const deadlineAt = new Date(workflowInfo().runStartTime.getTime() + deadlineMs).toISOString();
  let decision: PromotionDecision | null = null;
  let result: PromotionResult | undefined;

  setHandler(promotionStateQuery, () => ({ status: result?.status ?? 'waiting', deadlineAt, decision }));
  setHandler(
    decideUpdate,
    async (d) => {
      decision = d;
      await condition(() => result !== undefined);
      return result!;
    },
    {
      validator: (d) => {
        if (d?.role !== 'ml') refuse(`Only the ML role may decide a promotion; ${d?.by ?? 'the caller'} has role ${d?.role ?? 'none'}`);
        if (d.decision !== 'approve' && d.decision !== 'reject') refuse(`decision must be approve or reject, got "${String(d.decision)}"`);
        if (typeof d.by !== 'string' || d.by.trim() === '') refuse('by: who decides is required');
        if (typeof d.reason !== 'string' || d.reason.trim() === '') refuse('reason: why is required');
        if (decision !== null || result !== undefined) refuse(`This promotion is already ${result?.status ?? 'decided'}`);
      },
    },
  );

  const opened = await openPromotion({ workflowId, candidateId: input.candidateId, deadlineAt, forcedReason: input.force?.reason ?? null });
  if (opened.shadowReportId === null && !input.force) {
    const reason = `model ${input.candidateId} has no finished shadow report: run the shadow evaluation first, or force with a reason`;
    await closePromotion({ workflowId, status: 'refused', reason });
    result = { status: 'refused', candidateId: input.candidateId, decision: null, reason };
    return result;
  }

  if (!(await condition(() => decision !== null, deadlineMs))) {
    const reason = `no decision within ${input.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS} s`;
    await closePromotion({ workflowId, status: 'expired', reason });
    result = { status: 'expired', candidateId: input.candidateId, decision: null, reason };
    return result;
  }
  const d = decision!;
  const outcome = await carryOutDecision({ workflowId, candidateId: input.candidateId, ...d });
  const decided: PromotionResult = { status: outcome.status, candidateId: input.candidateId, decision: d, reason: d.reason };
  result = decided;
  // The Update's handler answers the decider with this result before the workflow completes.
  await condition(allHandlersFinished);
  return decided;
}
