import type { Knex } from 'knex';
import { NotFoundError } from '../lib/errors';
import { clvSummary } from '../features/clv-summary';
import { FEATURE_VERSION } from '../features/catalog';
import { computeFeatureSnapshot, loadFeatureMatrix } from '../features/snapshots';
import { getChampion, type RegisteredModel } from '../registry/model-registry';
import { predictProfiles } from './predict-profiles';
import { writeProfiles, type ScoreSummary } from './write-profiles';

export type { ScoreSummary } from './write-profiles';

export interface ScoreCustomersInput {
  asOf: Date;
  /** Rows written per statement. */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

async function champion(db: Knex, kind: string): Promise<RegisteredModel> {
  const model = await getChampion(db, kind);
  if (!model) throw new NotFoundError(`No champion ${kind} model: train one first (foresight train)`);
  return model;
}

/** The newest order or session at or before `asOf`: how fresh the data behind the profiles is. */
export async function latestEventAt(db: Knex, asOf: Date): Promise<Date | null> {
  const latest = await db.raw<{ rows: { latest: Date | null }[] }>(
    `select greatest((select max(ordered_at) from orders where ordered_at <= :asOf),
                     (select max(started_at) from sessions where started_at <= :asOf)) as latest`,
    { asOf: asOf.toISOString() },
  );
  return latest.rows[0]?.latest ?? null;
}

/**
 * Scores every customer who has purchased by `asOf` with the champion models and writes one row per customer to
 * customer_risk_scores (replacing the run of the same as_of, so re-running is idempotent).
 */
export async function scoreCustomers(db: Knex, input: ScoreCustomersInput): Promise<ScoreSummary> {
  const startedAt = Date.now();
  const { asOf } = input;
  const [churn, clv, segments] = await Promise.all([champion(db, 'churn'), champion(db, 'clv'), champion(db, 'segments')]);
  await computeFeatureSnapshot(db, asOf);
  const matrix = await loadFeatureMatrix(db, asOf, FEATURE_VERSION);
  const profiles = predictProfiles({
    models: { churn, clv, segments },
    matrix,
    clvSummary: await clvSummary(db, { asOf }),
    asOf,
    latestEventAt: await latestEventAt(db, asOf),
  });
  return writeProfiles(db, profiles, { chunkSize: input.chunkSize, onProgress: input.onProgress, startedAt });
}
