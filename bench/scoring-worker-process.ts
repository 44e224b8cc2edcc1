/**
 * One scoring worker in a Node process of its own, for bench/scoring.ts: the Workers `foresight worker` runs
 * (cli/worker.ts: the workflows and activities on BENCH_TASK_QUEUE, scorePartition on its scoring queue) on the
 * Temporal server at BENCH_TEMPORAL_ADDRESS, writing to BENCH_DATABASE_URL, scoring partitions as BENCH_IDENTITY, at
 * most BENCH_PARTITIONS_PER_WORKER at once (FORESIGHT_SCORING_PARTITIONS_PER_WORKER of `foresight worker`). Says
 * "ready" on stdout once polling, and stops on SIGTERM (Temporal's runtime shuts the Workers down on it).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createForesightWorker } from '../cli/worker';
import { createDb } from '../lib/db';
import { DEFAULT_QUALITY_RULES } from '../quality/rules';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const db = createDb(required('BENCH_DATABASE_URL'));
  const connection = await NativeConnection.connect({ address: required('BENCH_TEMPORAL_ADDRESS') });
  try {
    const identity = required('BENCH_IDENTITY');
    const partitionsPerWorker = Number(required('BENCH_PARTITIONS_PER_WORKER'));
    const activities = createActivities(db, {
      importDir: os.tmpdir(),
      qualityRules: DEFAULT_QUALITY_RULES,
      secretKey: randomBytes(32),
      identity,
      partitionsPerWorker,
    });
    const worker = await createForesightWorker(activities, {
      connection,
      taskQueue: required('BENCH_TASK_QUEUE'),
      identity,
      partitionsPerWorker,
    });
    const running = worker.run();
    process.stdout.write('ready\n');
    await running;
  } finally {
    await connection.close();
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
