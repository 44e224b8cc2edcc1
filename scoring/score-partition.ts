import type { Knex } from 'knex';
import { FEATURE_VERSION } from '../features/catalog';
import { loadFeatureMatrix } from '../features/snapshots';
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
    // The whole partition at once, so native predictions stay batched.
    const profiles = predictProfiles({ models, matrix, clvSummary: summary, asOf, latestEventAt, times });
    // Lines made while the COPY stream asks for them, so Postgres writes while the next are made.
    const documents: StageTimes = {};
    function* lines(): Generator<string> {
      const made = profileLines(run.runId, profiles);
      for (;;) {
        const next = timed(documents, 'documents', () => made.next());
        if (next.done) return;
        yield next.value;
      }
    }
    const copying = performance.now();
    const written = await copyPartition(db, { runId: run.runId, partition }, { customers: matrix.nrow, lines: lines() }, input);
    if (times) {
      addStageTimes(times, documents);
      times.copy = (times.copy ?? 0) + performance.now() - copying - (documents.documents ?? 0);
    }
    input.onProgress?.(matrix.nrow, matrix.nrow);
    return written;
  });
}
