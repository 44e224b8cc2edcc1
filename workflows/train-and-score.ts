import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ScoreSummary } from '../scoring/score-customers';
import type { TrainModelsResult } from '../training/train-models';

const { trainModels, scoreCustomers, runMonitoring } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  // Generous: a native XGBoost fit or SHAP pass blocks the event loop (and so the heartbeats) for minutes at a time.
  heartbeatTimeout: '10 minutes',
  // Each failure says itself whether a retry can help (activities/failures.ts): bad input fails at once.
  retry: { maximumAttempts: 2 },
});

export interface TrainAndScoreInput {
  asOf: string;
  churnHorizonDays?: number;
  clvHorizonMonths?: number;
  createdBy: string;
  /** Promote the new models to champion before scoring (otherwise they go to shadow once a champion exists). */
  promote?: boolean;
}

/** Trains every model as of a date, registers them, scores every customer with the champions, then monitors the run. */
export async function trainAndScoreWorkflow(
  input: TrainAndScoreInput,
): Promise<{ training: TrainModelsResult; scoring: ScoreSummary; monitoring: { reportId: number; breaches: string[] } }> {
  const training = await trainModels(input);
  const scoring = await scoreCustomers({ asOf: input.asOf });
  const { reportId, breaches } = await runMonitoring({ runId: scoring.runId });
  return { training, scoring, monitoring: { reportId, breaches } };
}
