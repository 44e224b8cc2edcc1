/**
 * A million customers end to end, as the product runs them (default 1,000,000 customers and 2 worker processes):
 * a generated shop's customers, orders and returns are ingested (sessions, items and identities are left out to keep
 * the load step short: session features are then empty), one feature snapshot is timed as the unit of work, every
 * model is trained in this process (trainModels, on the configured sample of purchasers), then the daily pipeline runs
 * on a Temporal dev server with `foresight worker` processes built from dist/ (what `npm run build` makes and users
 * run): featureRefreshWorkflow (the data-quality gate, then the snapshot) and scoringWorkflow (partitions on the
 * scoring task queue, published at once). Prints each stage's seconds, units of the snapshot, throughput and peak
 * resident memory (this process for ingestion and training; each worker process for the pipeline).
 * Run from the build, as users run the code: npm run build && node dist/bench/pipeline.js [customers] [workerProcesses]
 * [--reuse] [--shop=loyal-5y|heavy] (--reuse: the shop and models of the previous run are kept; only the unit and the
 * pipeline run again; --shop: another shop of SHOPS below, in a database of its own).
 */
import type { ChildProcess } from 'node:child_process';
import type { Knex } from 'knex';
import os from 'node:os';
import path from 'node:path';
import { tsToMs } from '@temporalio/common/lib/time';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { EntityName } from '../ingestion/entities';
import { ingestFile } from '../ingestion/ingest-file';
import { shopIngestionFiles } from '../ingestion/shop-files';
import { generateShop } from '../datagen/generate';
import { computeFeatureSnapshot } from '../features/snapshots';
import { config } from '../lib/config';
import { createDb } from '../lib/db';
import { databaseUrl, postgresUp } from '../stack/postgres';
import { findTemporalCli } from '../stack/temporal';
import { trainModels } from '../training/train-models';
import { pipelineWorkflow } from '../workflows/pipeline';
import { scratchDatabase } from './scratch-database';
import { processPeakMiB, stopProcesses, workerProcesses } from './worker-processes';

/**
 * The shops the bench generates (seed 3): the generator's default mix over three years (3.6 orders per customer), loyal
 * customers over five (9.7), or those buying 2.2 times as often (`heavy`: about 20, issue 9's 20 M orders at a million;
 * no sessions file, which the bench does not ingest).
 */
const SHOPS = {
  default: {},
  'loyal-5y': { historyDays: 5 * 365, typeMix: { loyal: 1 } },
  heavy: { historyDays: 5 * 365, typeMix: { loyal: 1 }, purchaseRateScale: 2.2, sessions: 'none' },
} as const;
type ShopName = keyof typeof SHOPS;
const TASK_QUEUE = 'bench-pipeline';
const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function main() {
  const [customersArg, workersArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const customers = Number(customersArg ?? 1_000_000);
  const workers = Number(workersArg ?? 2);
  const reuse = process.argv.includes('--reuse');
  const shopName = (process.argv.find((a) => a.startsWith('--shop='))?.slice('--shop='.length) ?? 'default') as ShopName;
  if (!(shopName in SHOPS)) throw new Error(`--shop must be one of ${Object.keys(SHOPS).join(', ')}, got ${shopName}`);
  const DATABASE = shopName === 'default' ? 'foresight_bench_pipeline' : `foresight_bench_pipeline_${shopName.replace('-', '_')}`;
  const cfg = config();
  await postgresUp(cfg);
  const stages: { name: string; seconds: number; rows?: number; peak: string; note: string }[] = [];
  const stage = async <T>(name: string, work: () => Promise<T>, note: (r: T) => { rows?: number; note: string }): Promise<T> => {
    const t = Date.now();
    process.stderr.write(`${name}...\n`);
    const result = await work();
    const seconds = (Date.now() - t) / 1000;
    stages.push({ name, seconds, peak: `${peakMiB()} MiB (this process)`, ...note(result) });
    process.stderr.write(`${name}: ${seconds.toFixed(1)} s, peak RSS ${peakMiB()} MiB\n`);
    return result;
  };

  let db: Knex;
  let asOf: Date;
  if (reuse) {
    // The shop, its ingestion and models of an earlier run of this bench: only the unit and the pipeline are run.
    db = createDb(databaseUrl(cfg, DATABASE));
    const exported = await db('ingest_batches').max({ at: 'exported_at' }).first();
    if (!exported?.at) throw new Error(`--reuse: ${DATABASE} holds no ingested shop; run without --reuse first`);
    asOf = new Date(exported.at as Date);
  } else {
    const outDir = path.join(os.tmpdir(), `foresight-bench-pipeline-${customers}${shopName === 'default' ? '' : `-${shopName}`}`);
    const shop = await stage(
      'generate shop',
      () => generateShop({ customers, seed: 3, outDir, ...SHOPS[shopName] }),
      (s) => ({ note: `${s.files.orders.rows.toLocaleString('en')} order rows` }),
    );
    db = await scratchDatabase(cfg, DATABASE);
    asOf = new Date(shop.exportInstant);
    const loaded: EntityName[] = ['customers', 'orders', 'returns'];
    for (const [entity, file] of shopIngestionFiles(shop).filter(([entity]) => loaded.includes(entity)))
      await stage(
        `ingest ${entity}`,
        () => ingestFile(db, { entity, file, notAfter: asOf }),
        (s) => ({ rows: s.accepted, note: `${s.accepted.toLocaleString('en')} rows` }),
      );
    await db.raw('analyze');
  }
  const unit = await stage(
    'one feature snapshot (the unit)',
    () => computeFeatureSnapshot(db, asOf),
    (s) => ({ rows: s.customerCount, note: `${s.customerCount.toLocaleString('en')} customers with an order` }),
  );
  if (!reuse)
    await stage(
      'train all models (churn, CLV, segments)',
      () => trainModels(db, { asOf, createdBy: 'bench', promote: true }),
      (r) => ({ note: `${r.models.map((m) => `${m.kind} v${m.version}`).join(', ')}; CLV serving ${r.clvChoice?.model ?? '-'}` }),
    );
  await db.destroy();

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const temporalCli = findTemporalCli(cfg);
  if (!temporalCli) throw new Error('The Temporal CLI is not installed: run `npm run setup`');
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: temporalCli } } });
  let children: ChildProcess[] = [];
  try {
    children = await workerProcesses(workers, {
      FORESIGHT_PG_DATABASE: DATABASE,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    });
    const started = Date.now();
    const handle = await env.client.workflow.start(pipelineWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId: `bench-pipeline-${started}`,
      args: [{ asOf: asOf.toISOString() }],
    });
    // The workers' peak memory, read while they run (no workflow queries: they would queue behind busy workers).
    const peaks = new Map<number, number>();
    const watching = setInterval(() => {
      for (const child of children) if (child.pid && child.exitCode === null) peaks.set(child.pid, processPeakMiB(child.pid));
    }, 200);
    const result = await handle.result().finally(() => clearInterval(watching));
    const finished = Date.now();
    // Each stage's time from the pipeline's history: its child initiated → completed (an absent child counts 0).
    const spans = new Map<string, { from: number; to: number }>();
    for (const event of (await handle.fetchHistory()).events ?? []) {
      const at = tsToMs(event.eventTime);
      const initiated = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (initiated) spans.set(initiated, { from: at, to: at });
      const completed = event.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId;
      if (completed && spans.has(completed)) spans.get(completed)!.to = at;
    }
    const stageSeconds = (prefix: string) =>
      [...spans].filter(([id]) => id.startsWith(prefix)).reduce((sum, [, span]) => sum + (span.to - span.from) / 1000, 0);
    // Inside scoring, from its own history: each activity type's span, first scheduled → last completed.
    const scoringId = [...spans.keys()].find((id) => id.startsWith('scoring-'));
    const activitySpans = new Map<string, { from: number; to: number }>();
    if (scoringId) {
      const scheduled = new Map<string, string>();
      for (const event of (await env.client.workflow.getHandle(scoringId).fetchHistory()).events ?? []) {
        const at = tsToMs(event.eventTime);
        const type = event.activityTaskScheduledEventAttributes?.activityType?.name;
        if (type) {
          scheduled.set(String(event.eventId), type);
          const span = activitySpans.get(type);
          if (span) span.from = Math.min(span.from, at);
          else activitySpans.set(type, { from: at, to: at });
        }
        const completedOf = event.activityTaskCompletedEventAttributes?.scheduledEventId;
        const completedType = completedOf ? scheduled.get(String(completedOf)) : undefined;
        if (completedType) activitySpans.get(completedType)!.to = Math.max(activitySpans.get(completedType)!.to, at);
      }
    }
    const activitySeconds = (type: string) => {
      const span = activitySpans.get(type);
      return span ? (span.to - span.from) / 1000 : 0;
    };
    const workerPeaks = [...peaks.values()].map((m) => `${m} MiB`).join(', ');
    const refresh = result.refresh.status === 'done' ? result.refresh.result : undefined;
    const scoring = result.scoring.status === 'done' ? result.scoring.result : undefined;
    stages.push(
      {
        name: 'pipeline: refresh (data-quality gate + feature snapshot)',
        seconds: stageSeconds('refresh-'),
        rows: refresh?.snapshot.customers,
        peak: `workers ${workerPeaks}`,
        note: `gate ${refresh?.gate.status ?? '?'}`,
      },
      {
        name: `pipeline: scoring + publish (${workers} worker processes)`,
        seconds: stageSeconds('scoring-'),
        rows: scoring?.customers,
        peak: `workers ${workerPeaks}`,
        note: `run ${scoring?.runId ?? '?'}, ${scoring?.partitions ?? '?'} partitions, monitoring included`,
      },
      {
        name: '— scoring: begin the run (champions, partitions)',
        seconds: activitySeconds('beginScoringRun'),
        peak: '',
        note: 'beginScoringRun',
      },
      {
        name: '— scoring: the partitions, first scheduled to last written',
        seconds: activitySeconds('scorePartition'),
        rows: scoring?.customers,
        peak: '',
        note: "scorePartition: read the partition's features, predict, drivers, COPY (and each worker's CLV summary once)",
      },
      {
        name: '— scoring: publish',
        seconds: activitySeconds('publishScoringRun'),
        peak: '',
        note: 'publishScoringRun: counts, the customers check, one UPDATE',
      },
      {
        name: '— scoring: monitoring of the run',
        seconds: activitySeconds('runMonitoring'),
        peak: '',
        note: 'runMonitoring: PSI per feature and of the scores, segment migration, coverage, freshness, alerts',
      },
      {
        name: 'pipeline: decisions (no active policy here)',
        seconds: stageSeconds('policy-'),
        peak: `workers ${workerPeaks}`,
        note: result.decisions ? `skipped: ${result.decisions.skipped ?? 'none'}` : '',
      },
      {
        name: '**pipeline end to end (refresh, scoring + publish, decisions)**',
        seconds: (finished - started) / 1000,
        rows: scoring?.customers,
        peak: `workers ${workerPeaks}`,
        note: `pipelineWorkflow, ${workers} \`foresight worker\` processes`,
      },
    );
  } finally {
    await stopProcesses(children);
    await env.teardown();
  }

  const unitSeconds = stages.find((s) => s.name.startsWith('one feature snapshot'))!.seconds;
  console.log(
    `Pipeline benchmark, ${new Date().toISOString().slice(0, 16)} UTC, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; shop ${shopName}, ${customers.toLocaleString('en')} customers ` +
      `(${unit.customerCount.toLocaleString('en')} with an order); load average at the end ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  console.log('| stage | seconds | units | rows or customers/s | peak resident memory | note |');
  console.log('|---|---:|---:|---:|---|---|');
  for (const s of stages)
    console.log(
      `| ${s.name} | ${s.seconds.toFixed(1)} | ${(s.seconds / unitSeconds).toFixed(1)} | ${
        s.rows ? Math.round(s.rows / s.seconds).toLocaleString('en') : ''
      } | ${s.peak} | ${s.note} |`,
    );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
