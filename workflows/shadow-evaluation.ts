import { ParentClosePolicy, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ShadowReport } from '../scoring/shadow-report';
import { promotionWorkflow } from './promotion';

const { evaluateCandidate } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  // Scoring a snapshot twice with SHAP drivers blocks the event loop for minutes on a large shop.
  heartbeatTimeout: '10 minutes',
  retry: { maximumAttempts: 3 },
});

export interface ShadowEvaluationInput {
  candidateIds: number[];
  /** The snapshot both models score; default each candidate's training as-of. */
  asOf?: string;
  /** Then start a promotion workflow (`promotion-<id>`) per candidate, waiting for a person's decision. */
  requestPromotion?: { deadlineSeconds?: number };
}

export interface ShadowEvaluationResult {
  reports: { candidateId: number; reportId: number; report: ShadowReport }[];
  /** The promotion workflows started (or already running) for the candidates. */
  promotions: string[];
}

/**
 * Scores each candidate beside the champion of its kind on the same snapshot and stores the comparison report. The
 * evaluation is keyed by this workflow's id: a retried activity replaces its own report, never adds one.
 */
export async function shadowEvaluationWorkflow(input: ShadowEvaluationInput): Promise<ShadowEvaluationResult> {
  const evaluationRun = workflowInfo().workflowId;
  const reports: ShadowEvaluationResult['reports'] = [];
  for (const candidateId of input.candidateIds) {
    const { reportId, report } = await evaluateCandidate({ candidateId, evaluationRun, asOf: input.asOf });
    reports.push({ candidateId, reportId, report });
  }
  const promotions: string[] = [];
  if (input.requestPromotion) {
    for (const candidateId of input.candidateIds) {
      const workflowId = `promotion-${candidateId}`;
      try {
        // Abandoned: the promotion waits for a person long after this evaluation has finished.
        await startChild(promotionWorkflow, {
          workflowId,
          args: [{ candidateId, deadlineSeconds: input.requestPromotion.deadlineSeconds }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
      } catch (err) {
        // @temporalio/common's WorkflowExecutionAlreadyStartedError (workflows import only @temporalio/workflow): a
        // promotion of this candidate is already waiting, which is what was asked for.
        if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
      }
      promotions.push(workflowId);
    }
  }
  return { reports, promotions };
}
