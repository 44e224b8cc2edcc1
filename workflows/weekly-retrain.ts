import { ParentClosePolicy, WorkflowIdReusePolicy, executeChild } from '@temporalio/workflow';
import { retrainWorkflow, type RetrainResult } from './retrain';
import { scheduledAsOf } from './scheduled-as-of';
import { shadowEvaluationWorkflow, type ShadowEvaluationResult } from './shadow-evaluation';

export interface WeeklyRetrainResult {
  asOf: string;
  retrain: RetrainResult;
  shadow: ShadowEvaluationResult | null;
}

/**
 * What the weekly schedule starts: retrainWorkflow as of the scheduled day (`retrain-<day>`), then the shadow
 * evaluation of the models it registered in shadow (`shadow-<day>`), which asks a person for each promotion. Business
 * keys with ALLOW_DUPLICATE_FAILED_ONLY, as in pipelineWorkflow: a day retrained already is not retrained again.
 */
export async function weeklyRetrainWorkflow(): Promise<WeeklyRetrainResult> {
  const asOf = scheduledAsOf();
  const day = asOf.slice(0, 10);
  const options = {
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    parentClosePolicy: ParentClosePolicy.TERMINATE,
  };
  const retrain = await executeChild(retrainWorkflow, { ...options, workflowId: `retrain-${day}`, args: [{ asOf }] });
  const candidateIds = retrain.models.filter((m) => m.status === 'shadow' || m.status === 'candidate').map((m) => m.modelId);
  const shadow =
    candidateIds.length === 0
      ? null
      : await executeChild(shadowEvaluationWorkflow, {
          ...options,
          workflowId: `shadow-${day}`,
          args: [{ candidateIds, asOf, requestPromotion: {} }],
        });
  return { asOf, retrain, shadow };
}
