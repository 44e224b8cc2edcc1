import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { ConflictError, ForesightError, NotFoundError, ValidationError } from '../lib/errors';
import { FEATURE_NAMES, FEATURE_VERSION } from './catalog';
import { asOfParameter, featureQuery, featureQuerySql, POPULATIONS, type Population } from './sql';
import type { TrainingSample } from './training-sample';
import { sampleDb } from './sample-copies';
import type { FeatureMatrix } from './types';

export type { FeatureMatrix } from './types';

/**
 * Feature snapshots in Postgres: computed by one `insert … select` inside the database, and read back as a
 * row-major Float32Array page by page, so neither direction holds a JS object per customer for long.
 */

// Names and SQL of this build's feature version: the same version computed from another definition is refused.
const DEFINITION_SHA256 = createHash('sha256')
  .update(JSON.stringify(FEATURE_NAMES))
  .update(POPULATIONS.map((population) => featureQuerySql(population)).join('\n'))
  .digest('hex');

export interface ComputeFeatureSnapshotOptions {
  /** The version the caller expects; a worker running older code fails instead of mislabelling rows. */
  featureVersion?: string;
  population?: Population;
}

export interface FeatureSnapshotSummary {
  asOf: Date;
  featureVersion: string;
  population: Population;
  customerCount: number;
  /** True when ensureFeatureSnapshot found the snapshot on record still current and did not compute it. */
  reused?: boolean;
}

/**
 * The state of every ingestion batch (id, status, rows accepted, times ingested, last ingested), hashed; null while a
 * batch is running or failed part-way (its rows may still change). Every write to the source tables goes through a
 * batch (ingestion/ingest-file.ts), so an unchanged fingerprint means unchanged data.
 */
export async function sourcesFingerprint(db: Knex): Promise<string | null> {
  const row = (
    await db.raw<{ rows: { fingerprint: string | null; unsettled: boolean }[] }>(
      `select md5(coalesce(string_agg(concat_ws(':', batch_id, status, rows_accepted, times_ingested, last_ingested_at), ','
                  order by batch_id), '')) as fingerprint,
              coalesce(bool_or(status <> 'completed'), false) as unsettled
         from ingest_batches`,
    )
  ).rows[0]!;
  return row.unsettled ? null : row.fingerprint;
}

/** The options with their defaults; a feature version other than this build's is refused (compute or reuse alike). */
function snapshotOptions(options: ComputeFeatureSnapshotOptions): { featureVersion: string; population: Population } {
  const featureVersion = options.featureVersion ?? FEATURE_VERSION;
  if (featureVersion !== FEATURE_VERSION) {
    throw new ValidationError(`This build computes feature version ${FEATURE_VERSION}, not ${featureVersion}`, 'featureVersion');
  }
  return { featureVersion, population: options.population ?? 'purchasers' };
}

/** Computes (or recomputes, replacing it atomically) the snapshot of (asOf, featureVersion). */
export async function computeFeatureSnapshot(
  db: Knex,
  asOf: Date,
  options: ComputeFeatureSnapshotOptions = {},
): Promise<FeatureSnapshotSummary> {
  const { featureVersion, population } = snapshotOptions(options);
  const query = featureQuery(asOf, population);
  const key = { as_of: query.bindings.as_of, feature_version: featureVersion };

  const customerCount = await db.transaction(async (trx) => {
    await registerFeatureSet(trx, featureVersion);
    // Taken before the snapshot's own statement, which sees at least as much: a batch committed in between changes
    // the fingerprint from this one, so the snapshot is never taken for current when it is not.
    const fingerprint = await sourcesFingerprint(trx);
    // Upserting the header first locks it, so concurrent computations of one snapshot run one after the other.
    await trx.raw(
      `insert into feature_snapshot_headers (as_of, feature_version, population, customer_count)
       values (:as_of, :feature_version, :population, 0)
       on conflict (as_of, feature_version) do update set population = excluded.population, computed_at = now()`,
      { ...key, population },
    );
    await trx('feature_snapshots').where(key).delete();
    const inserted = await trx.raw(
      `insert into feature_snapshots (as_of, feature_version, customer_id, "values")
       select :as_of::timestamptz, :feature_version, customer_id, "values" from (${query.sql}) features`,
      { ...query.bindings, feature_version: featureVersion },
    );
    const count = inserted.rowCount as number;
    await trx('feature_snapshot_headers').where(key).update({ customer_count: count, sources_fingerprint: fingerprint });
    return count;
  });
  return { asOf, featureVersion, population, customerCount };
}

/**
 * The snapshot of (asOf, this build's feature version) for `population`: the one on record when it was computed from
 * the data as it still is (same sources fingerprint, same population), else computed now. For steps that need a
 * current snapshot (training's segments, shadow evaluation) right after another step made it.
 */
export async function ensureFeatureSnapshot(
  db: Knex,
  asOf: Date,
  options: ComputeFeatureSnapshotOptions = {},
): Promise<FeatureSnapshotSummary> {
  const { featureVersion, population } = snapshotOptions(options);
  const [header, fingerprint] = await Promise.all([
    db('feature_snapshot_headers')
      .where({ as_of: asOfParameter(asOf), feature_version: featureVersion })
      .first('population', 'customer_count', 'sources_fingerprint') as Promise<
      { population: Population; customer_count: number; sources_fingerprint: string | null } | undefined
    >,
    sourcesFingerprint(db),
  ]);
  if (header && fingerprint !== null && header.sources_fingerprint === fingerprint && header.population === population)
    return { asOf, featureVersion, population, customerCount: header.customer_count, reused: true };
  return computeFeatureSnapshot(db, asOf, options);
}

async function registerFeatureSet(trx: Knex.Transaction, featureVersion: string): Promise<void> {
  await trx('feature_sets')
    .insert({ feature_version: featureVersion, feature_names: FEATURE_NAMES, definition_sha256: DEFINITION_SHA256 })
    .onConflict('feature_version')
    .ignore();
  const registered = await trx('feature_sets').where({ feature_version: featureVersion }).first('definition_sha256');
  if (registered.definition_sha256 !== DEFINITION_SHA256) {
    throw new ConflictError(
      `Feature version ${featureVersion} is stored with another definition; bump FEATURE_VERSION in models/features/catalog.ts`,
      { featureVersion },
    );
  }
}

/** Customer ids in (after, upTo], in the database's text order; null leaves that side open. */
export interface CustomerIdRange {
  after: string | null;
  upTo: string | null;
}

export interface LoadFeatureMatrixOptions {
  /** Only these customers, in this order; those not in the snapshot are left out. Default: all, by customer_id. */
  customerIds?: readonly string[];
  /** Only the customers whose id is in (after, upTo] (null: unbounded), by customer_id: a scoring partition. */
  customerIdRange?: CustomerIdRange;
  /** Rows fetched per query. */
  pageSize?: number;
}

/** The snapshot of (asOf, featureVersion) as a matrix, read in one repeatable-read transaction. */
export async function loadFeatureMatrix(
  db: Knex,
  asOf: Date,
  featureVersion: string,
  options: LoadFeatureMatrixOptions = {},
): Promise<FeatureMatrix> {
  const key = { as_of: asOfParameter(asOf), feature_version: featureVersion };
  const pageSize = options.pageSize ?? 50_000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new ValidationError('pageSize must be a positive integer', 'pageSize');

  return db.transaction(
    async (trx) => {
      const header = await trx('feature_snapshot_headers as h')
        .join('feature_sets as s', 's.feature_version', 'h.feature_version')
        .where({ 'h.as_of': key.as_of, 'h.feature_version': featureVersion })
        .first('h.customer_count', 's.feature_names');
      if (!header) throw new NotFoundError(`No feature snapshot of version ${featureVersion} as of ${key.as_of}; compute it first`);
      const featureNames = header.feature_names as string[];
      const range = options.customerIdRange;
      const inRange = (q: Knex.QueryBuilder) => {
        if (range?.after != null) q.where('customer_id', '>', range.after);
        if (range?.upTo != null) q.where('customer_id', '<=', range.upTo);
        return q;
      };
      const pageQuery = () => inRange(trx('feature_snapshots').where(key)).select('customer_id', trx.raw(`array_send("values") as packed`));

      if (options.customerIds === undefined) {
        const rows = range
          ? Number((await inRange(trx('feature_snapshots').where(key)).count({ n: '*' }).first())?.n ?? 0)
          : (header.customer_count as number);
        const matrix = new MatrixBuilder(rows, featureNames);
        let page: PackedRow[] = await pageQuery().orderBy('customer_id').limit(pageSize);
        while (page.length > 0) {
          for (const row of page) matrix.push(row.customer_id, row.packed);
          if (page.length < pageSize) break;
          page = await pageQuery()
            .where('customer_id', '>', page[page.length - 1]!.customer_id)
            .orderBy('customer_id')
            .limit(pageSize);
        }
        return matrix.build();
      }

      const wanted = [...new Set(options.customerIds)];
      const matrix = new MatrixBuilder(wanted.length, featureNames);
      for (let start = 0; start < wanted.length; start += pageSize) {
        const chunk = wanted.slice(start, start + pageSize);
        const rows: PackedRow[] = await pageQuery().whereRaw('customer_id = any(?::text[])', [chunk]);
        const packedById = new Map(rows.map((row) => [row.customer_id, row.packed]));
        for (const customerId of chunk) {
          const packed = packedById.get(customerId);
          if (packed !== undefined) matrix.push(customerId, packed);
        }
      }
      return matrix.build();
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

/**
 * The purchasers' features as of asOf for a training sample's customers only (features/training-sample.ts), by
 * customer_id: computed by the snapshot's SQL restricted to the sample and read straight back, not stored, because a
 * stored snapshot of (asOf, featureVersion) holds every customer and scoring may read it.
 */
export async function sampledFeatureMatrix(db: Knex, asOf: Date, sample: TrainingSample): Promise<FeatureMatrix> {
  const query = featureQuery(asOf, 'purchasers', sample);
  const rows = (
    await sampleDb(db, sample).raw<{ rows: PackedRow[] }>(
      `select customer_id, array_send("values") as packed from (${query.sql}) features order by customer_id`,
      query.bindings,
    )
  ).rows;
  const matrix = new MatrixBuilder(rows.length, [...FEATURE_NAMES]);
  for (const row of rows) matrix.push(row.customer_id, row.packed);
  return matrix.build();
}

interface PackedRow {
  customer_id: string;
  packed: Buffer;
}

/**
 * Fills a preallocated Float32Array row by row from `array_send(values)`: Postgres's binary array format, which
 * decodes about twice as fast as text (1,000,000 × 32 in 5.5 s instead of 13 s). For a one-dimensional real[]:
 * int32 ndim, int32 has-nulls flag, int32 element type, int32 length, int32 lower bound, then per element an int32
 * byte length (−1 for NULL) and, unless NULL, a big-endian float4.
 */
class MatrixBuilder {
  readonly #customerIds: string[] = [];
  readonly #X: Float32Array;
  readonly #ncol: number;

  constructor(
    readonly capacity: number,
    readonly featureNames: string[],
  ) {
    this.#ncol = featureNames.length;
    this.#X = new Float32Array(capacity * this.#ncol);
  }

  push(customerId: string, packed: Buffer): void {
    const row = this.#customerIds.length;
    if (packed.readInt32BE(0) !== 1 || packed.readInt32BE(12) !== this.#ncol || row >= this.capacity) {
      throw new ForesightError(`Feature row of ${customerId} does not fit the ${this.capacity} × ${this.#ncol} snapshot matrix`);
    }
    const offset = row * this.#ncol;
    let at = 20;
    for (let j = 0; j < this.#ncol; j++) {
      const length = packed.readInt32BE(at);
      at += 4;
      if (length < 0) {
        this.#X[offset + j] = Number.NaN;
      } else {
        this.#X[offset + j] = packed.readFloatBE(at);
        at += length;
      }
    }
    this.#customerIds.push(customerId);
  }

  build(): FeatureMatrix {
    const nrow = this.#customerIds.length;
    const X = nrow === this.capacity ? this.#X : this.#X.slice(0, nrow * this.#ncol);
    return { customerIds: this.#customerIds, featureNames: this.featureNames, X, nrow, ncol: this.#ncol };
  }
}
