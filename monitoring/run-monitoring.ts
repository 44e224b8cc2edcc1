import type { Knex } from 'knex';
import { FEATURE_VERSION } from '../features/catalog';
import { loadFeatureMatrix } from '../features/snapshots';
import type { FeatureMatrix } from '../features/types';
import { NotFoundError } from '../lib/errors';
import { syncAlerts, type Alert } from './alerts';
import { segmentPairsOfRuns } from '../scoring/segment-pairs';
import { breaches, monitoringFigures, runBins, type MonitoringFigures, type RunBins, type RunData, type RunReference } from './figures';

export interface MonitoringReport {
  reportId: number;
  figures: MonitoringFigures;
  breaches: string[];
  opened: Alert[];
  resolved: Alert[];
}

async function snapshotOf(db: Knex, asOf: Date): Promise<FeatureMatrix | null> {
  try {
    return await loadFeatureMatrix(db, asOf, FEATURE_VERSION);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

interface RunRow {
  run_id: string;
  as_of: Date;
  model_versions: Record<string, { modelId?: number } | undefined> | null;
}

async function runData(db: Knex, run: RunRow): Promise<RunData> {
  const [rows, confidenceRows, matrix] = await Promise.all([
    db('customer_risk_scores').where({ run_id: run.run_id }).whereNotNull('churn_probability').pluck('churn_probability') as Promise<
      number[]
    >,
    db('customer_risk_scores')
      .where({ run_id: run.run_id })
      .groupBy('confidence')
      .orderBy('confidence')
      .select('confidence', db.raw('count(*)::int as n')) as Promise<{ confidence: string; n: number }[]>,
    snapshotOf(db, run.as_of),
  ]);
  return {
    runId: Number(run.run_id),
    asOf: run.as_of,
    matrix,
    churn: Float64Array.from(rows),
    churnModelId: run.model_versions?.churn?.modelId ?? null,
    confidence: new Map(confidenceRows.map((r) => [r.confidence, r.n])),
    profiles: confidenceRows.reduce((sum, r) => sum + r.n, 0),
  };
}

/**
 * The previous run as the current one is compared with it: its own bins as kept with its report, or, for a run
 * monitored before reports kept them, computed from its snapshot and scores.
 */
async function referenceOf(db: Knex, previous: RunRow, currentRunId: number): Promise<RunReference> {
  const runId = Number(previous.run_id);
  const [kept, segmentPairs] = await Promise.all([
    db('monitoring_reports').where({ run_id: runId }).first('bins') as Promise<{ bins: RunBins | null } | undefined>,
    segmentPairsOfRuns(db, runId, currentRunId),
  ]);
  const bins = kept?.bins ?? runBins(await runData(db, previous));
  return { runId, churnModelId: previous.model_versions?.churn?.modelId ?? null, bins, segmentPairs };
}

/**
 * Monitoring after a scoring run: the run's figures against the previous published run (monitoring/figures.ts), kept
 * in monitoring_reports, and the alerts they open or resolve (with their webhook events) in the same transaction.
 * Idempotent: running it again for the run replaces its report and opens no second alert of a kind.
 */
export async function runMonitoring(db: Knex, runId: number, now = new Date()): Promise<MonitoringReport> {
  const run = (await db('scoring_runs').where({ run_id: runId }).first('run_id', 'as_of', 'published_at', 'model_versions')) as
    (RunRow & { published_at: Date | null }) | undefined;
  if (!run) throw new NotFoundError(`No scoring run ${runId}`);
  // The published run served before this one: an earlier as-of, or the same as-of published earlier (a re-score).
  const previous = (await db('scoring_runs')
    .whereNotNull('published_at')
    .whereNot('run_id', runId)
    .where('as_of', '<=', run.as_of)
    .where((q) => (run.published_at ? q.where('as_of', '<', run.as_of).orWhere('published_at', '<', run.published_at) : q))
    .orderBy([
      { column: 'as_of', order: 'desc' },
      { column: 'published_at', order: 'desc' },
    ])
    .first('run_id', 'as_of', 'model_versions')) as RunRow | undefined;
  // Both runs at once: Postgres counts the segment pairs (and reads the previous run, if its report kept no bins) while
  // this process reads the current run.
  const [current, reference] = await Promise.all([runData(db, run), previous ? referenceOf(db, previous, runId) : null]);
  const bins = runBins(current);
  const sources = (
    await db.raw<{ rows: { source: string; latest: Date | null }[] }>(
      `select entity as source, max(latest_event_at) filter (where latest_event_at <= :asOf) as latest
         from ingest_batches group by entity order by entity`,
      { asOf: run.as_of },
    )
  ).rows.map((r) => ({ source: r.source, latestEventAt: r.latest }));
  const newest = (await db('ingest_batches').where({ status: 'completed' }).max({ at: 'exported_at' }).first()) as
    { at: Date | null } | undefined;
  const figures = monitoringFigures({
    current,
    reference,
    snapshotCustomers: current.matrix?.nrow ?? current.profiles,
    sources,
    newestDataAt: newest?.at ?? null,
    now,
  });
  const found = breaches(figures);

  return db.transaction(async (trx) => {
    const [report] = (await trx('monitoring_reports')
      .insert({
        run_id: runId,
        as_of: run.as_of,
        reference_run_id: reference?.runId ?? null,
        figures: JSON.stringify(figures),
        bins: JSON.stringify(bins),
        breaches: found.map((b) => b.kind),
        created_at: now,
      })
      .onConflict('run_id')
      .merge()
      .returning('report_id')) as { report_id: string }[];
    const { opened, resolved } = await syncAlerts(trx, runId, found, now);
    return { reportId: Number(report!.report_id), figures, breaches: found.map((b) => b.kind), opened, resolved };
  });
}

/** The newest report (by the run's as-of) and its figures, or null before the first. */
export async function latestReport(
  db: Knex,
): Promise<{ reportId: number; runId: number; createdAt: Date; figures: MonitoringFigures; breaches: string[] } | null> {
  const row = (await db('monitoring_reports')
    .orderBy('as_of', 'desc')
    .first('report_id', 'run_id', 'created_at', 'figures', 'breaches')) as
    { report_id: string; run_id: string; created_at: Date; figures: MonitoringFigures; breaches: string[] } | undefined;
  if (!row) return null;
  return {
    reportId: Number(row.report_id),
    runId: Number(row.run_id),
    createdAt: row.created_at,
    figures: row.figures,
    breaches: row.breaches,
  };
}
