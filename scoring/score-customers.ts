import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import os from 'node:os';
import { ScoringCache } from './model-cache';
import { predictionSlice, scorePartition } from './score-partition';
import type { StageTimes } from './stage-times';
import { beginScoringRun, failScoringRun, publishScoringRun, type ScoreSummary } from './scoring-runs';

export type { ScoreSummary } from './scoring-runs';

export interface ScoreCustomersInput {
  asOf: Date;
  /** Customers per partition (scored one after the other here; in parallel by scoringWorkflow). */
  partitionSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Where to add the time of each stage, if anywhere. */
  times?: StageTimes;
  /** Customers predicted at a time within a partition (scoring/score-partition.ts PREDICTION_SLICE). */
  predictionSlice?: number;
}

/**
 * Scores every customer who has purchased by `asOf` with the champion models in this process: a new scoring run,
 * its partitions one after the other, then the run published at once. The previous published run stays served
 * until then, and still is if this fails. scoringWorkflow does the same across workers.
 */
export async function scoreCustomers(db: Knex, input: ScoreCustomersInput): Promise<ScoreSummary> {
  predictionSlice(input.predictionSlice);
  const startedAt = Date.now();
  const run = await beginScoringRun(db, { asOf: input.asOf, runKey: `in-process-${randomUUID()}`, partitionSize: input.partitionSize });
  const cache = new ScoringCache();
  try {
    let done = 0;
    for (const p of run.partitions) {
      const written = await scorePartition(db, cache, {
        runId: run.runId,
        partition: p.partition,
        scoredBy: `${os.hostname()}:${process.pid}`,
        attempt: 1,
        times: input.times,
        predictionSlice: input.predictionSlice,
      });
      done += written.customers;
      input.onProgress?.(done, run.customersExpected);
    }
    return await publishScoringRun(db, run.runId, startedAt);
  } catch (err) {
    await failScoringRun(db, run.runId, err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    cache.dispose();
  }
}
