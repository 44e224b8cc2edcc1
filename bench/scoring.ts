/**
 * Partitioned scoring throughput (default 200,000 customers): a generated shop's customers, orders and returns are
 * ingested, models trained, then every customer is scored four times, each a new published run: in this process one
 * partition after another (scoreCustomers), then by scoringWorkflow on a Temporal dev server with one worker process,
 * two worker processes on the same task queue, and one again (so a change of the machine's load between the runs
 * shows). Each worker is a `foresight worker` process built from dist/ (bench/worker-processes.ts). The
 * one-feature-snapshot time measured in the same run is the unit each stage is also given in; the in-process run's
 * time is also split by scoring stage (scoring/stage-times.ts).
 * Run from the build, as users run the code (under tsx it is markedly slower): npm run build && node dist/bench/scoring.js [customers]
 */
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { EntityName } from '../ingestion/entities';
import { ingestFile } from '../ingestion/ingest-file';
import { shopIngestionFiles } from '../ingestion/shop-files';
import { generateShop } from '../datagen/generate';
import { computeFeatureSnapshot } from '../features/snapshots';
import { config, DEFAULT_PARTITIONS_PER_WORKER } from '../lib/config';
import { scoreCustomers } from '../scoring/score-customers';
import type { StageTimes } from '../scoring/stage-times';
import { postgresUp } from '../stack/postgres';
import { findTemporalCli } from '../stack/temporal';
import { trainModels } from '../training/train-models';
import { scoringWorkflow } from '../workflows';
import { scratchDatabase } from './scratch-database';
import { stopProcesses, workerProcesses } from './worker-processes';

const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function main() {
  const customers = Number(process.argv[2] ?? 200_000);
  const cfg = config();
  await postgresUp(cfg);
  const stages: { name: string; seconds: number; scored?: number; note: string }[] = [];
  const stage = async <T>(name: string, work: () => Promise<T>, note: (r: T) => { scored?: number; note: string }): Promise<T> => {
    const t = Date.now();
    process.stderr.write(`${name}...\n`);
    const result = await work();
    const seconds = (Date.now() - t) / 1000;
    stages.push({ name, seconds, ...note(result) });
    process.stderr.write(`${name}: ${seconds.toFixed(1)} s, peak RSS ${peakMiB()} MiB\n`);
    return result;
  };

  const outDir = path.join(os.tmpdir(), `foresight-bench-scoring-${customers}`);
  const shop = await stage(
    'generate shop',
    () => generateShop({ customers, seed: 3, outDir }),
    (s) => ({ note: `${s.files.orders.rows} order rows` }),
  );
  const db = await scratchDatabase(cfg, 'foresight_bench_scoring');
  const asOf = new Date(shop.exportInstant);
  const loaded: EntityName[] = ['customers', 'orders', 'returns'];
  for (const [entity, file] of shopIngestionFiles(shop).filter(([entity]) => loaded.includes(entity)))
    await stage(
      `ingest ${entity}`,
      () => ingestFile(db, { entity, file, notAfter: asOf }),
      (s) => ({ note: `${s.accepted} rows` }),
    );
  await db.raw('analyze');
  const baseline = await stage(
    'one feature snapshot (the unit)',
    () => computeFeatureSnapshot(db, asOf),
    (s) => ({ note: `${s.customerCount} customers` }),
  );
  await stage(
    'train all models',
    () => trainModels(db, { asOf, createdBy: 'bench', promote: true }),
    (r) => ({ note: `models ${r.models.map((m) => `${m.kind} v${m.version}`).join(', ')}` }),
  );

  const stageTimes: StageTimes = {};
  const inProcess = await stage(
    'score in process (scoreCustomers, 20,000-customer partitions in turn)',
    () => scoreCustomers(db, { asOf, times: stageTimes }),
    (s) => ({ scored: s.customers, note: `run ${s.runId}, ${s.partitions} partitions` }),
  );

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const temporalCli = findTemporalCli(cfg);
  if (!temporalCli) throw new Error('The Temporal CLI is not installed: run `npm run setup`');
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: temporalCli } } });
  const partitionSize = 20_000;
  try {
    for (const [round, workers] of [1, 2, 1].entries()) {
      const taskQueue = `bench-scoring-${round}`;
      const children = await workerProcesses(workers, {
        FORESIGHT_PG_DATABASE: 'foresight_bench_scoring',
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        // Two partitions at once per process (the default of `foresight worker`): one computing while the other's
        // rows go to Postgres.
        FORESIGHT_SCORING_PARTITIONS_PER_WORKER: String(DEFAULT_PARTITIONS_PER_WORKER),
      });
      try {
        await stage(
          `scoringWorkflow, ${workers} worker process${workers > 1 ? 'es' : ''}, ${partitionSize.toLocaleString('en')}-customer partitions`,
          () =>
            env.client.workflow.execute(scoringWorkflow, {
              taskQueue,
              workflowId: `bench-scoring-${round}`,
              args: [{ asOf: asOf.toISOString(), partitionSize }],
            }),
          (s) => ({ scored: s.customers, note: `run ${s.runId}, ${s.partitions} partitions` }),
        );
      } finally {
        await stopProcesses(children);
      }
    }
  } finally {
    await env.teardown();
  }
  await db.destroy();

  const unit = stages.find((s) => s.name.startsWith('one feature snapshot'))!.seconds;
  console.log(
    `Scoring benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg()[0]!.toFixed(1)}; ${customers} customers (${baseline.customerCount} with an order)`,
  );
  console.log('| stage | seconds | units | customers/s | note |');
  console.log('|---|---:|---:|---:|---|');
  for (const s of stages)
    console.log(
      `| ${s.name} | ${s.seconds.toFixed(1)} | ${(s.seconds / unit).toFixed(1)} | ${s.scored ? Math.round(s.scored / s.seconds).toLocaleString('en') : ''} | ${s.note} |`,
    );
  console.log(`peak resident memory of the Node process: ${peakMiB()} MiB`);

  const inProcessSeconds = stages.find((s) => s.name.startsWith('score in process'))!.seconds;
  const staged = Object.values(stageTimes).reduce((sum, ms) => sum + ms, 0) / 1000;
  console.log(`\nIn-process scoring by stage (${inProcess.customers} customers, ${inProcessSeconds.toFixed(1)} s):`);
  console.log('| stage | seconds | share | µs per customer |');
  console.log('|---|---:|---:|---:|');
  const rows: [string, number][] = [
    ...(Object.entries(stageTimes) as [string, number][]).map(([name, ms]): [string, number] => [name, ms / 1000]),
    ['other (run bookkeeping, model loading, CLV summary)', inProcessSeconds - staged],
  ];
  for (const [name, seconds] of rows)
    console.log(
      `| ${name} | ${seconds.toFixed(1)} | ${((100 * seconds) / inProcessSeconds).toFixed(0)}% | ${((seconds * 1e6) / inProcess.customers).toFixed(1)} |`,
    );
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
