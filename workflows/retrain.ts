import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ModelKind, TrainModelsResult } from '../training/train-models';

const { trainModelKind } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  // Generous: a native XGBoost fit blocks the event loop (and so the heartbeats) for minutes at a time.
  heartbeatTimeout: '10 minutes',
  retry: { maximumAttempts: 3 },
});

export interface RetrainInput {
  asOf: string;
  horizons?: { churnDays?: number; clvMonths?: number };
  createdBy?: string;
}

export interface RetrainResult {
  /** The key the models are registered under: this workflow's id. */
  trainingRun: string;
  models: TrainModelsResult['models'];
}

/** One activity per kind, in this order: the kinds share the as-of's feature snapshot and the machine's cores. */
export const RETRAIN_KINDS: readonly ModelKind[] = ['churn', 'clv', 'segments'];

/**
 * Retrains every kind as of a date and registers the models as candidates (in shadow beside the champion) with their
 * backtest metrics; it never promotes, except the first model of a kind on an empty registry. Each kind is keyed by
 * the workflow's id, so a retried activity, or the same id started again, returns the models already registered.
 */
export async function retrainWorkflow(input: RetrainInput): Promise<RetrainResult> {
  const trainingRun = workflowInfo().workflowId;
  const models: TrainModelsResult['models'] = [];
  for (const kind of RETRAIN_KINDS) {
    models.push(
      await trainModelKind({
        asOf: input.asOf,
        kind,
        trainingRun,
        createdBy: input.createdBy ?? trainingRun,
        churnHorizonDays: input.horizons?.churnDays,
        clvHorizonMonths: input.horizons?.clvMonths,
      }),
    );
  }
  return { trainingRun, models };
}
