import type { Knex } from 'knex';
import { NotFoundError } from '../lib/errors';
import { evaluateSource, gateStatus, type CheckResult, type CheckStatus, type SourceStats } from './checks';
import type { QualityRules } from './rules';

export interface GateResult {
  gateRun: string;
  asOf: string;
  status: CheckStatus;
  checks: CheckResult[];
}

interface StatsRow {
  entity: string;
  latest_event_at: Date | null;
  batch_id: string;
  rows_total: number;
  rows_accepted: number;
  rows_rejected: number;
  missing_rejects: number;
  identity_conflicts: number;
  earlier_accepted: number[] | null;
}

/**
 * Per source: the newest batch ingested, its reject reasons, the accepted rows of earlier batches, and the newest event
 * time (data time, compared with the as-of; batches are ordered by when they were ingested).
 */
async function measureSources(db: Knex, asOf: Date): Promise<SourceStats[]> {
  const result = await db.raw<{ rows: StatsRow[] }>(
    `with batches as (
       select b.*, row_number() over (partition by entity order by last_ingested_at desc, batch_id desc) as recency
         from ingest_batches b)
     select n.entity, n.batch_id, n.rows_total, n.rows_accepted, n.rows_rejected,
            -- An export that runs past the as-of counts as fresh at the as-of.
            (select case when max(latest_event_at) is null then null else least(max(latest_event_at), :asOf::timestamptz) end
               from batches b where b.entity = n.entity) as latest_event_at,
            (select count(*)::int from ingest_rejects r where r.batch_id = n.batch_id
                and r.reasons @> '[{"reason": "missing"}]') as missing_rejects,
            (select count(*)::int from ingest_rejects r where r.batch_id = n.batch_id
                and r.reasons @> '[{"reason": "identity_conflict"}]') as identity_conflicts,
            (select array_agg(rows_accepted order by batch_id) from batches b where b.entity = n.entity and b.recency > 1) as earlier_accepted
       from batches n where n.recency = 1 order by n.entity`,
    { asOf: asOf.toISOString() },
  );
  return result.rows.map((r) => ({
    source: r.entity,
    latestEventAt: r.latest_event_at,
    newestBatch: {
      batchId: Number(r.batch_id),
      rowsTotal: r.rows_total,
      rowsAccepted: r.rows_accepted,
      rowsRejected: r.rows_rejected,
      missingRejects: r.missing_rejects,
      identityConflicts: r.identity_conflicts,
    },
    earlierAccepted: r.earlier_accepted ?? [],
  }));
}

/**
 * Runs every check on every source as of a date and records each verdict under `gateRun` (re-running the same gate
 * run replaces its rows, so a retried activity records one verdict). No ingested source at all is a failure.
 */
export async function runQualityGate(db: Knex, input: { asOf: Date; gateRun: string; rules: QualityRules }): Promise<GateResult> {
  const sources = await measureSources(db, input.asOf);
  if (sources.length === 0) throw new NotFoundError('Nothing has been ingested: no source to check');
  const checks = sources.flatMap((s) => evaluateSource(s, input.rules, input.asOf));
  await db.transaction(async (trx) => {
    await trx('data_quality_checks').where({ gate_run: input.gateRun }).delete();
    await trx('data_quality_checks').insert(
      checks.map((c) => ({
        gate_run: input.gateRun,
        as_of: input.asOf.toISOString(),
        source: c.source,
        check: c.check,
        value: c.value !== null && Number.isFinite(c.value) ? c.value : null,
        threshold: c.threshold,
        action: c.action,
        status: c.status,
        detail: c.detail,
      })),
    );
  });
  return { gateRun: input.gateRun, asOf: input.asOf.toISOString(), status: gateStatus(checks), checks };
}

/** The most recent gate run's verdicts (or a named one), as recorded. */
export async function latestQualityGate(db: Knex, gateRun?: string): Promise<GateResult | undefined> {
  const run =
    gateRun ??
    ((await db('data_quality_checks').orderBy('checked_at', 'desc').orderBy('check_id', 'desc').first('gate_run'))?.gate_run as
      string | undefined);
  if (!run) return undefined;
  const rows = await db('data_quality_checks').where({ gate_run: run }).orderBy(['source', 'check_id']);
  if (rows.length === 0) return undefined;
  const checks: CheckResult[] = rows.map((r) => ({
    source: r.source,
    check: r.check,
    value: r.value,
    threshold: r.threshold,
    action: r.action,
    status: r.status,
    detail: r.detail,
  }));
  return { gateRun: run, asOf: (rows[0].as_of as Date).toISOString(), status: gateStatus(checks), checks };
}
