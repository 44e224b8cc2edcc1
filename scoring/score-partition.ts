import type { Knex } from 'knex';
import { FEATURE_VERSION } from '../features/catalog';
import { loadFeatureMatrix, type FeatureMatrix } from '../features/snapshots';
import { NotFoundError } from '../lib/errors';
import { copyPartition, profileLines, type WrittenPartition } from './copy-profiles';
import type { ScoringCache } from './model-cache';
import { alignSummary, predictProfiles } from './predict-profiles';
import { getScoringRun } from './scoring-runs';
import { addStageTimes, timed, type StageTimes } from './stage-times';

export interface ScorePartitionInput {
  runId: number;
  partition: number;
  /** Who scores it (host:pid, or a worker's identity) and which attempt this is: recorded with the partition. */
  scoredBy: string;
  attempt: number;
  onProgress?: (done: number, total: number) => void;
  /** Where to add the time of each stage, if anywhere. */
  times?: StageTimes;
}

/**
 * Customers predicted at once: native predictions stay batched, and Postgres writes one chunk while the next is
 * predicted (the COPY stream reads ahead of what it has sent).
 */
const CUSTOMERS_PER_CHUNK = 5000;

/** Scores one partition of a running run with the run's models and writes it (scoring/copy-profiles.ts). */
export async function scorePartition(db: Knex, cache: ScoringCache, input: ScorePartitionInput): Promise<WrittenPartition> {
  const run = await getScoringRun(db, input.runId);
  const partition = run.partitions.find((p) => p.partition === input.partition);
  if (!partition) throw new NotFoundError(`Scoring run ${input.runId} has no partition ${input.partition}`);
  const asOf = new Date(run.asOf);
  const { times } = input;
  const loading = performance.now();
  const [matrix, runSummary] = await Promise.all([
    loadFeatureMatrix(db, asOf, FEATURE_VERSION, { customerIdRange: partition }),
    cache.clvSummary(db, asOf),
  ]);
  if (times) times['load features'] = (times['load features'] ?? 0) + performance.now() - loading;
  const summary = alignSummary(runSummary, matrix.customerIds);
  input.onProgress?.(0, matrix.nrow);
  const latestEventAt = run.latestEventAt ? new Date(run.latestEventAt) : null;
  return cache.withModels(db, run.modelVersions, async (models) => {
    // Time spent computing inside the COPY stream, to tell the COPY's own time from it.
    const computing: StageTimes = {};
    function* lines(): Generator<string> {
      for (let from = 0; from < matrix.nrow; from += CUSTOMERS_PER_CHUNK) {
        const chunk = rowsOf(matrix, from, Math.min(matrix.nrow, from + CUSTOMERS_PER_CHUNK));
        const profiles = predictProfiles({ models, matrix: chunk, clvSummary: summary, asOf, latestEventAt, times: computing });
        yield* timed(computing, 'documents', () => [...profileLines(run.runId, profiles)]);
        input.onProgress?.(from + chunk.nrow, matrix.nrow);
      }
    }
    const copying = performance.now();
    const written = await copyPartition(db, { runId: run.runId, partition }, { customers: matrix.nrow, lines: lines() }, input);
    if (times) {
      const inStream = Object.values(computing).reduce((sum, ms) => sum + ms, 0);
      addStageTimes(times, computing);
      times.copy = (times.copy ?? 0) + performance.now() - copying - inStream;
    }
    return written;
  });
}

/** Rows [from, to) of a feature matrix, sharing its values. */
function rowsOf(matrix: FeatureMatrix, from: number, to: number): FeatureMatrix {
  return {
    ...matrix,
    customerIds: matrix.customerIds.slice(from, to),
    X: matrix.X.subarray(from * matrix.ncol, to * matrix.ncol),
    nrow: to - from,
  };
}
