import type { Knex } from 'knex';
import { FEATURE_VERSION } from '../features/catalog';
import { loadFeatureMatrix } from '../features/snapshots';
import { NotFoundError } from '../lib/errors';
import { copyPartition, type WrittenPartition } from './copy-profiles';
import type { ScoringCache } from './model-cache';
import { predictProfiles } from './predict-profiles';
import { getScoringRun } from './scoring-runs';

export interface ScorePartitionInput {
  runId: number;
  partition: number;
  /** Who scores it (host:pid, or a worker's identity) and which attempt this is: recorded with the partition. */
  scoredBy: string;
  attempt: number;
  onProgress?: (done: number, total: number) => void;
}

/** Scores one partition of a running run with the run's models and writes it (scoring/copy-profiles.ts). */
export async function scorePartition(db: Knex, cache: ScoringCache, input: ScorePartitionInput): Promise<WrittenPartition> {
  const run = await getScoringRun(db, input.runId);
  const partition = run.partitions.find((p) => p.partition === input.partition);
  if (!partition) throw new NotFoundError(`Scoring run ${input.runId} has no partition ${input.partition}`);
  const asOf = new Date(run.asOf);
  const [matrix, summary] = await Promise.all([
    loadFeatureMatrix(db, asOf, FEATURE_VERSION, { customerIdRange: partition }),
    cache.clvSummary(db, asOf),
  ]);
  input.onProgress?.(0, matrix.nrow);
  const profiles = await cache.withModels(db, run.modelVersions, async (models) =>
    predictProfiles({
      models,
      matrix,
      clvSummary: summary,
      asOf,
      latestEventAt: run.latestEventAt ? new Date(run.latestEventAt) : null,
    }),
  );
  const written = await copyPartition(db, { runId: run.runId, partition }, profiles, input);
  input.onProgress?.(matrix.nrow, matrix.nrow);
  return written;
}
