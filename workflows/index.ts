// Everything exported here is registered as a workflow by the worker (cli/worker.ts).
export { ingestShopWorkflow } from './ingest-shop';
export { trainAndScoreWorkflow } from './train-and-score';
export { featureRefreshWorkflow } from './feature-refresh';
export { retrainWorkflow } from './retrain';
export { shadowEvaluationWorkflow } from './shadow-evaluation';
export { promotionWorkflow } from './promotion';
export { webhookDeliveryWorkflow } from './webhook-delivery';
export { webhookDispatchWorkflow } from './webhook-dispatch';
export { actionApprovalWorkflow } from './action-approval';
export { policyEvaluationWorkflow } from './policy-evaluation';
export { scoringWorkflow } from './scoring';
export { pipelineWorkflow } from './pipeline';
export { weeklyRetrainWorkflow } from './weekly-retrain';
