import { ActivityFailure, ApplicationFailure, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ScoreSummary } from '../scoring/scoring-runs';

const { beginScoringRun, publishScoringRun, failScoringRun, runMonitoring } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // Beginning may compute the feature snapshot: one INSERT … SELECT with no heartbeat while it runs.
  heartbeatTimeout: '30 minutes',
  retry: { maximumAttempts: 3 },
});

/**
 * The task queue of a run's partitions: the workflow's own queue with `-scoring` appended. Each worker process polls it
 * with a Worker of few activity slots (cli/worker.ts), so it takes one or two partitions at a time and leaves the rest
 * to other processes, while the main queue's many slots stay free for small activities (deliveries, approvals).
 * Derived rather than passed in, so every start (CLI, schedule, pipeline child) gets it without saying so.
 */
export function scoringTaskQueue(workflowTaskQueue: string): string {
  return `${workflowTaskQueue}-scoring`;
}

/** scorePartition on the run's scoring task queue; made inside the workflow, which alone knows its own queue. */
function partitionActivities() {
  return proxyActivities<Activities>({
    taskQueue: scoringTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '30 minutes',
    // Partitions are sized so that their native work (XGBoost, SHAP) blocks the heartbeat for seconds, not minutes: a
    // killed worker's partition is handed to another worker within this time.
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 3, initialInterval: '1 second' },
  });
}

export interface ScoringInput {
  asOf: string;
  /** Customers per partition (default scoring/scoring-runs.ts DEFAULT_PARTITION_SIZE). */
  partitionSize?: number;
  /** Partitions in flight at once, across every worker of the scoring task queue. */
  maxParallel?: number;
}

export interface ScoringProgress {
  runId: number | null;
  partitions: number;
  partitionsDone: number;
  customers: number;
  customersDone: number;
  status: 'starting' | 'scoring' | 'publishing' | 'monitoring' | 'published' | 'failed';
}

/** The published run's summary and what monitoring found in it (monitoring/run-monitoring.ts). */
export interface ScoringResult extends ScoreSummary {
  monitoring: { reportId: number; breaches: string[]; opened: number; resolved: number };
}

export const scoringProgressQuery = defineQuery<ScoringProgress>('scoringProgress');

/** The failure type of a run that could not be completed: it is marked failed and the previous run stays served. */
export const SCORING_RUN_FAILED = 'ScoringRunFailed';

/**
 * Scores every customer as of a date: begins a run (models and partitions fixed), scores its partitions in parallel
 * on whichever workers poll the scoring task queue (scoringTaskQueue), and publishes the run in one UPDATE when every partition is written.
 * A partition that still fails after its retries marks the run failed; readers keep the previous published run.
 * Every published run is then monitored (drift, stability, coverage, freshness): an alert it opens holds automatic
 * approval before the policy acts on the run. A monitoring failure fails the workflow (the run stays published).
 * Start it with a business-key id (`scoring-2026-07-01`).
 */
export async function scoringWorkflow(input: ScoringInput): Promise<ScoringResult> {
  const progress: ScoringProgress = { runId: null, partitions: 0, partitionsDone: 0, customers: 0, customersDone: 0, status: 'starting' };
  setHandler(scoringProgressQuery, () => progress);
  const startedAt = workflowInfo().runStartTime.getTime();
  const { scorePartition } = partitionActivities();
  const run = await beginScoringRun({ asOf: input.asOf, partitionSize: input.partitionSize });
  Object.assign(progress, { runId: run.runId, partitions: run.partitions.length, customers: run.customersExpected, status: 'scoring' });

  const waiting = [...run.partitions];
  let failure: ActivityFailure | undefined;
  const lane = async (): Promise<void> => {
    while (waiting.length > 0 && !failure) {
      const p = waiting.shift()!;
      try {
        const written = await scorePartition({ runId: run.runId, partition: p.partition });
        progress.partitionsDone += 1;
        progress.customersDone += written.customers;
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.maxParallel ?? 16, run.partitions.length)) }, lane));
  if (failure) {
    progress.status = 'failed';
    const reason = `partition failed: ${failure.cause?.message ?? failure.message}`;
    await failScoringRun({ runId: run.runId, reason });
    throw ApplicationFailure.create({
      type: SCORING_RUN_FAILED,
      nonRetryable: true,
      message: `Scoring run ${run.runId} failed: ${reason}`,
      cause: failure,
    });
  }
  progress.status = 'publishing';
  const summary = await publishScoringRun({ runId: run.runId, startedAt });
  progress.status = 'monitoring';
  const monitoring = await runMonitoring({ runId: run.runId });
  progress.status = 'published';
  return { ...summary, monitoring };
}
