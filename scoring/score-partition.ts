import type { Knex } from 'knex';
import { FEATURE_VERSION } from '../features/catalog';
import { loadFeatureMatrix, type FeatureMatrix } from '../features/snapshots';
import { NotFoundError, ValidationError } from '../lib/errors';
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
  /** Customers predicted at a time while the COPY writes the ones before (default PREDICTION_SLICE). */
  predictionSlice?: number;
}

/**
 * Customers predicted at a time while the COPY writes the ones before: enough to keep native predictions batched,
 * few enough that Postgres starts writing early and a slice's profiles die young.
 */
export const PREDICTION_SLICE = 2000;

/** The slice size asked for (PREDICTION_SLICE by default), refused unless a positive whole number. */
export function predictionSlice(asked: number | undefined): number {
  const size = asked ?? PREDICTION_SLICE;
  if (!(Number.isSafeInteger(size) && size >= 1))
    throw new ValidationError(`predictionSlice must be a positive whole number of customers, got ${size}`, 'predictionSlice');
  return size;
}

/** Rows [start, end) of a feature matrix, sharing its values. */
function featureRows(matrix: FeatureMatrix, start: number, end: number): FeatureMatrix {
  return {
    customerIds: matrix.customerIds.slice(start, end),
    featureNames: matrix.featureNames,
    X: matrix.X.subarray(start * matrix.ncol, end * matrix.ncol),
    nrow: end - start,
    ncol: matrix.ncol,
  };
}

/** Scores one partition of a running run with the run's models and writes it (scoring/copy-profiles.ts). */
export async function scorePartition(db: Knex, cache: ScoringCache, input: ScorePartitionInput): Promise<WrittenPartition> {
  const run = await getScoringRun(db, input.runId);
  const partition = run.partitions.find((p) => p.partition === input.partition);
  if (!partition) throw new NotFoundError(`Scoring run ${input.runId} has no partition ${input.partition}`);
  const asOf = new Date(run.asOf);
  const { times } = input;
  const sliceSize = predictionSlice(input.predictionSlice);
  const loading = performance.now();
  const [matrix, runSummary] = await Promise.all([
    loadFeatureMatrix(db, asOf, FEATURE_VERSION, { customerIdRange: partition }),
    cache.clvSummary(db, asOf),
  ]);
  if (times) times['load features'] = (times['load features'] ?? 0) + performance.now() - loading;
  input.onProgress?.(0, matrix.nrow);
  const latestEventAt = run.latestEventAt ? new Date(run.latestEventAt) : null;
  return cache.withModels(db, run.modelVersions, async (models) => {
    // Profiles made a slice at a time as the COPY stream asks for lines, so Postgres writes one slice while the next
    // is predicted (on a core pair, the Node core and the Postgres core work at once); a slice keeps native
    // predictions batched.
    const stageTimes: StageTimes = {};
    function* lines(): Generator<string> {
      for (let start = 0; start < matrix.nrow; start += sliceSize) {
        const slice = featureRows(matrix, start, Math.min(start + sliceSize, matrix.nrow));
        const profiles = predictProfiles({
          models,
          matrix: slice,
          clvSummary: alignSummary(runSummary, slice.customerIds),
          asOf,
          latestEventAt,
          times: stageTimes,
        });
        const made = profileLines(run.runId, profiles);
        for (;;) {
          const next = timed(stageTimes, 'documents', () => made.next());
          if (next.done) break;
          yield next.value;
        }
      }
    }
    const copying = performance.now();
    const written = await copyPartition(db, { runId: run.runId, partition }, { customers: matrix.nrow, lines: lines() }, input);
    if (times) {
      addStageTimes(times, stageTimes);
      const computing = Object.values(stageTimes).reduce((sum, ms) => sum + ms, 0);
      times.copy = (times.copy ?? 0) + performance.now() - copying - computing;
    }
    input.onProgress?.(matrix.nrow, matrix.nrow);
    return written;
  });
}
