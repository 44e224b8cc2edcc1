import { ParentClosePolicy, proxyActivities, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { actionApprovalWorkflow } from './action-approval';

const { evaluatePolicyAndRelease } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3 },
});

/**
 * Evaluates a policy's active version (auto-approved actions get their webhook events in the same transaction), then
 * starts one approval workflow per action waiting for a person; they outlive this workflow.
 */
export async function policyEvaluationWorkflow(input: {
  policyKey: string;
  startedBy: string;
}): Promise<{ evaluationId: number; released: number; pending: number }> {
  const evaluation = await evaluatePolicyAndRelease(input);
  // All in one workflow task: started one after the other, each child would cost a round trip (minutes for thousands).
  await Promise.all(
    evaluation.pending.map((p) =>
      startChild(actionApprovalWorkflow, {
        workflowId: `approval-action-${p.actionId}`,
        args: [p],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      }),
    ),
  );
  return { evaluationId: evaluation.evaluationId, released: evaluation.released, pending: evaluation.pending.length };
}
