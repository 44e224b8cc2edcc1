import { ParentClosePolicy, proxyActivities, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { actionApprovalWorkflow } from './action-approval';

const { evaluatePolicyAndRelease } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3 },
});

export interface PolicyEvaluationInput {
  policyKey: string;
  startedBy: string;
  /** The scoring run the evaluation is for (the daily pipeline's): refused if the latest published scores are another's. */
  scoringRunId?: number;
}

export interface PolicyEvaluationResult {
  evaluationId: number;
  released: number;
  pending: number;
}

/**
 * Evaluates a policy's active version (auto-approved actions get their webhook events in the same transaction), then
 * starts the approval workflows of the actions waiting for a person, a batch of actions each; they outlive this
 * workflow.
 */
export async function policyEvaluationWorkflow(input: PolicyEvaluationInput): Promise<PolicyEvaluationResult> {
  const evaluation = await evaluatePolicyAndRelease(input);
  await Promise.all(
    evaluation.approvals.map(({ workflowId, ...batch }) =>
      startChild(actionApprovalWorkflow, {
        workflowId,
        args: [batch],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      }),
    ),
  );
  const pending = evaluation.approvals.reduce((n, batch) => n + batch.actions.length, 0);
  return { evaluationId: evaluation.evaluationId, released: evaluation.released, pending };
}
