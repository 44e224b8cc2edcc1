import type { Knex } from 'knex';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { FEATURE_VERSION } from '../features/catalog';
import { computeFeatureSnapshot, type CustomerIdRange } from '../features/snapshots';
import { getChampion, type RegisteredModel } from '../registry/model-registry';
import type { ModelVersions } from './predict-profiles';

/**
 * The life of a scoring run: begun (`running`, invisible to readers) with its models and partitions fixed, written
 * partition by partition (scoring/score-partition.ts), then published in one UPDATE once every partition is in, or
 * failed. Readers (customer_profiles_latest) see the newest published run only, so a run is served whole or not at all.
 */

export interface ScoringPartition extends CustomerIdRange {
  partition: number;
}

export interface ScoringRun {
  runId: number;
  asOf: string;
  status: 'running' | 'published' | 'failed';
  modelVersions: ModelVersions;
  partitions: ScoringPartition[];
  customersExpected: number;
  latestEventAt: string | null;
}

export interface ScoreSummary {
  runId: number;
  asOf: string;
  customers: number;
  riskBands: Record<string, number>;
  confidence: Record<string, number>;
  segments: Record<string, number>;
  /** Sum of expected net revenue over the CLV horizon, summed in numeric by Postgres. */
  expectedNetRevenue: string;
  modelVersions: ModelVersions;
  partitions: number;
  elapsedMs: number;
}

/** Default customers per partition: small enough that one partition's native work never outlasts a heartbeat timeout. */
export const DEFAULT_PARTITION_SIZE = 20_000;

interface RunRow {
  run_id: string;
  as_of: Date;
  status: ScoringRun['status'];
  model_versions: ModelVersions;
  partitions: ScoringPartition[];
  customers_expected: number | null;
  latest_event_at: Date | null;
}

function fromRow(row: RunRow): ScoringRun {
  return {
    runId: Number(row.run_id),
    asOf: row.as_of.toISOString(),
    status: row.status,
    modelVersions: row.model_versions,
    partitions: row.partitions,
    customersExpected: row.customers_expected ?? 0,
    latestEventAt: row.latest_event_at?.toISOString() ?? null,
  };
}

export async function getScoringRun(db: Knex, runId: number): Promise<ScoringRun> {
  const row = (await db('scoring_runs').where({ run_id: runId }).first()) as RunRow | undefined;
  if (!row) throw new NotFoundError(`No scoring run ${runId}`);
  return fromRow(row);
}

/**
 * Refuses an as-of that scores would lie about: one in the future (after now), or after the newest export of any
 * ingested batch (the data cannot know anything later, so every customer would look older than they are).
 */
export async function assertScorableAsOf(db: Knex, asOf: Date): Promise<void> {
  if (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())) throw new ValidationError('asOf must be a valid date', 'asOf');
  const row = await db.raw<{ rows: { now: Date; exported: Date | null }[] }>(
    `select now() as now, (select max(exported_at) from ingest_batches where status = 'completed') as exported`,
  );
  const { now, exported } = row.rows[0]!;
  if (asOf.getTime() > new Date(now).getTime())
    throw new ValidationError(`asOf ${asOf.toISOString()} is in the future (now is ${new Date(now).toISOString()})`, 'asOf');
  if (exported && asOf.getTime() > new Date(exported).getTime())
    throw new ValidationError(
      `asOf ${asOf.toISOString()} is after the newest data (the latest batch was exported at ${new Date(exported).toISOString()})`,
      'asOf',
    );
}

async function champion(db: Knex, kind: string): Promise<RegisteredModel> {
  const model = await getChampion(db, kind);
  if (!model) throw new NotFoundError(`No champion ${kind} model: train one first (foresight train)`);
  return model;
}

/** Customer-id ranges of about `size` customers each over the snapshot, in customer_id order. */
async function planPartitions(db: Knex, asOf: string, size: number): Promise<{ partitions: ScoringPartition[]; customers: number }> {
  const header = await db('feature_snapshot_headers').where({ as_of: asOf, feature_version: FEATURE_VERSION }).first('customer_count');
  const customers = Number(header?.customer_count ?? 0);
  const bounds = await db.raw<{ rows: { customer_id: string }[] }>(
    `select customer_id from (
       select customer_id, row_number() over (order by customer_id) as rn
         from feature_snapshots where as_of = ? and feature_version = ?) numbered
      where rn % ? = 0 and rn < ? order by customer_id`,
    [asOf, FEATURE_VERSION, size, customers],
  );
  const upTos = [...bounds.rows.map((r) => r.customer_id), null];
  return { partitions: upTos.map((upTo, i) => ({ partition: i, after: i === 0 ? null : upTos[i - 1]!, upTo })), customers };
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

export interface BeginScoringRunInput {
  asOf: Date;
  /** Who starts it (a workflow's id and run id): beginning the same key again returns the same run. */
  runKey: string;
  partitionSize?: number;
}

/**
 * Begins a run: checks the as-of, computes the feature snapshot unless it exists, fixes the champion models (every
 * partition scores with these, whatever is promoted meanwhile) and the partitions. Nothing is visible to readers yet.
 */
export async function beginScoringRun(db: Knex, input: BeginScoringRunInput): Promise<ScoringRun> {
  const existing = (await db('scoring_runs').where({ run_key: input.runKey }).first()) as RunRow | undefined;
  if (existing) return fromRow(existing);
  const size = input.partitionSize ?? DEFAULT_PARTITION_SIZE;
  if (!Number.isInteger(size) || size < 1)
    throw new ValidationError(`partitionSize must be a positive whole number, got ${size}`, 'partitionSize');
  await assertScorableAsOf(db, input.asOf);
  const asOf = input.asOf.toISOString();
  const models = await Promise.all(['churn', 'clv', 'segments'].map((kind) => champion(db, kind)));
  const modelVersions = Object.fromEntries(models.map((m) => [m.kind, { modelId: m.modelId, version: m.version }]));
  const snapshot = await db('feature_snapshot_headers').where({ as_of: asOf, feature_version: FEATURE_VERSION }).first('as_of');
  if (!snapshot) await computeFeatureSnapshot(db, input.asOf);
  const { partitions, customers } = await planPartitions(db, asOf, size);
  const latest = await latestEventAt(db, input.asOf);
  const inserted = await db.raw<{ rows: RunRow[] }>(
    `insert into scoring_runs (as_of, run_key, model_versions, partitions, customers_expected, latest_event_at)
     values (?, ?, ?, ?, ?, ?) on conflict (run_key) do nothing returning *`,
    [asOf, input.runKey, JSON.stringify(modelVersions), JSON.stringify(partitions), customers, latest],
  );
  const row = inserted.rows[0] ?? ((await db('scoring_runs').where({ run_key: input.runKey }).first()) as RunRow);
  return fromRow(row);
}

/**
 * The run readers are served (customer_profiles_latest, migration 20261129000050): the published run of the newest
 * as-of, the last published among several of that as-of. Null before any run is published.
 */
export async function servedScoringRun(db: Knex): Promise<{ runId: number; asOf: string } | null> {
  const row = (await db('scoring_runs')
    .whereNotNull('published_at')
    .orderBy([
      { column: 'as_of', order: 'desc' },
      { column: 'published_at', order: 'desc' },
    ])
    .first('run_id', 'as_of')) as { run_id: string; as_of: Date } | undefined;
  return row ? { runId: Number(row.run_id), asOf: row.as_of.toISOString() } : null;
}

/** The newest published scoring run of an as-of, if any. */
export async function publishedRunAt(db: Knex, asOf: Date): Promise<number | undefined> {
  const run = (await db('scoring_runs')
    .where({ as_of: asOf.toISOString() })
    .whereNotNull('published_at')
    .orderBy('published_at', 'desc')
    .first('run_id')) as { run_id: string } | undefined;
  return run && Number(run.run_id);
}

/**
 * Publishes a run in one UPDATE, after checking under the run's lock that every partition is written and the rows
 * are exactly one per customer of the snapshot, each of a customer that exists. Publishing a published run returns its summary (a retried publish).
 */
export async function publishScoringRun(db: Knex, runId: number, startedAt: number): Promise<ScoreSummary> {
  return db.transaction(async (trx) => {
    const row = (await trx('scoring_runs').where({ run_id: runId }).forUpdate().first()) as
      (RunRow & { summary: ScoreSummary; failure: string | null }) | undefined;
    if (!row) throw new NotFoundError(`No scoring run ${runId}`);
    if (row.status === 'published') return row.summary;
    if (row.status === 'failed') throw new ConflictError(`Scoring run ${runId} failed (${row.failure}); start a new run`, { runId });
    const written = await trx('scoring_run_partitions').where({ run_id: runId }).select('partition', 'customers');
    const missing = row.partitions.filter((p) => !written.some((w) => w.partition === p.partition)).map((p) => p.partition);
    if (missing.length > 0) throw new ConflictError(`Scoring run ${runId} lacks partitions ${missing.join(', ')}`, { runId, missing });
    const stats = await trx.raw<{ rows: { kind: string; key: string; n: number }[] }>(
      `select 'band' as kind, risk_band as key, count(*)::int as n from customer_risk_scores where run_id = :runId group by risk_band
       union all select 'confidence', confidence, count(*)::int from customer_risk_scores where run_id = :runId group by confidence
       union all select 'segment', segment, count(*)::int from customer_risk_scores where run_id = :runId group by segment`,
      { runId },
    );
    const total = await trx('customer_risk_scores')
      .where({ run_id: runId })
      .first(trx.raw('count(*)::int as n'), trx.raw('sum(clv_expected_net_revenue) as s'));
    const customers = Number(total?.n ?? 0);
    if (customers !== row.customers_expected)
      throw new ConflictError(`Scoring run ${runId} has ${customers} rows for ${row.customers_expected} customers`, { runId });
    // The table has no row-level foreign keys (migration 20261203000010): the run's customers are checked here, once.
    const unknown = await trx.raw<{ rows: { n: number; example: string | null }[] }>(
      `select count(*)::int as n, min(s.customer_id) as example from customer_risk_scores s
        where s.run_id = ? and not exists (select 1 from customers c where c.customer_id = s.customer_id)`,
      [runId],
    );
    if (unknown.rows[0]!.n > 0)
      throw new ConflictError(
        `Scoring run ${runId} has ${unknown.rows[0]!.n} row(s) for customers that do not exist (e.g. ${unknown.rows[0]!.example}): not published`,
        { runId },
      );
    const pick = (kind: string) => Object.fromEntries(stats.rows.filter((r) => r.kind === kind).map((r) => [r.key, r.n]));
    const summary: ScoreSummary = {
      runId,
      asOf: row.as_of.toISOString(),
      customers,
      riskBands: pick('band'),
      confidence: pick('confidence'),
      segments: pick('segment'),
      expectedNetRevenue: String(total?.s ?? '0'),
      modelVersions: row.model_versions,
      partitions: row.partitions.length,
      elapsedMs: Date.now() - startedAt,
    };
    await trx('scoring_runs')
      .where({ run_id: runId })
      .update({
        status: 'published',
        published_at: trx.fn.now(),
        finished_at: trx.fn.now(),
        customers_scored: customers,
        summary: JSON.stringify(summary),
      });
    return summary;
  });
}

/** Marks a running run failed: never served; the published run before it stays served. */
export async function failScoringRun(db: Knex, runId: number, reason: string): Promise<void> {
  await db('scoring_runs')
    .where({ run_id: runId, status: 'running' })
    .update({ status: 'failed', failed_at: db.fn.now(), finished_at: db.fn.now(), failure: reason.slice(0, 2000) });
}
