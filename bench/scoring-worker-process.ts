/**
 * One scoring worker in a Node process of its own, for bench/scoring.ts: the Foresight workflows and activities on
 * BENCH_TASK_QUEUE of the Temporal server at BENCH_TEMPORAL_ADDRESS, writing to BENCH_DATABASE_URL, scoring
 * partitions as BENCH_IDENTITY, at most BENCH_ACTIVITY_SLOTS at once (Temporal's default is 100: a worker would take
 * every partition of a run and interleave them on its one JavaScript thread). Says "ready" on stdout once polling, and stops on SIGTERM (Temporal's runtime shuts
 * the worker down on it).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
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
    const worker = await Worker.create({
      connection,
      taskQueue: required('BENCH_TASK_QUEUE'),
      identity,
      maxConcurrentActivityTaskExecutions: Number(required('BENCH_ACTIVITY_SLOTS')),
      workflowsPath: require.resolve('../workflows'),
      activities: createActivities(db, {
        importDir: os.tmpdir(),
        qualityRules: DEFAULT_QUALITY_RULES,
        secretKey: randomBytes(32),
        identity,
      }),
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
