import type { Knex } from 'knex';
import { FEATURE_NAMES } from './catalog';
import type { FeatureMatrix } from './types';
import { featureQuery } from './sql';
import type { TrainingSample } from './training-sample';
import { sampleDb } from './sample-copies';

interface FeatureRow {
  customer_id: string;
  values: (number | null)[];
}

/**
 * The catalog features (FEATURE_VERSION's, in catalog order) of the given customers as of a time, computed by the feature snapshot's own SQL but not
 * stored: a backtest needs features at past cutoffs once, and this way it leaves no rows behind and runs on a
 * read-only database. Row i is customerIds[i]; a customer with no event at or before asOf gets a row of NaN
 * (missing, which XGBoost routes by its learned default). Given the training sample the ids are drawn from, only the
 * sampled customers' features are computed.
 */
export async function featuresAsOf(
  db: Knex,
  asOf: Date,
  customerIds: readonly string[],
  sample: TrainingSample | null = null,
): Promise<FeatureMatrix> {
  const query = featureQuery(asOf, 'any_event', sample);
  const rows = (await sampleDb(db, sample).raw(query.sql, query.bindings)).rows as FeatureRow[];
  const ncol = FEATURE_NAMES.length;
  const rowOf = new Map(customerIds.map((id, i) => [id, i]));
  const X = new Float32Array(customerIds.length * ncol).fill(Number.NaN);
  for (const row of rows) {
    const i = rowOf.get(row.customer_id);
    if (i === undefined) continue;
    row.values.forEach((value, j) => (X[i * ncol + j] = value ?? Number.NaN));
  }
  return { customerIds: [...customerIds], featureNames: [...FEATURE_NAMES], X, nrow: customerIds.length, ncol };
}
