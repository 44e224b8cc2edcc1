import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { projectRoot } from '../../lib/project-root';
import { trainedShop } from './scoring';
import type { IngestedShop } from './shop';
import { startTemporal, testSecretKey } from './temporal';

/**
 * `foresight worker [...args]` (the built binary) as its own process, on the test database, Temporal server and task
 * queue, with `env` added to its environment (e.g. FORESIGHT_SCORING_PARTITIONS_PER_WORKER). Its stderr is shown
 * with FORESIGHT_TEST_VERBOSE=1.
 */
export function startWorkerProcess(
  shop: IngestedShop,
  temporal: TestWorkflowEnvironment,
  taskQueue: string,
  env: NodeJS.ProcessEnv = {},
  args: string[] = [],
): ChildProcess {
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist', 'cli', 'main.js'), 'worker', ...args], {
    env: {
      ...process.env,
      DATABASE_URL: shop.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      FORESIGHT_IMPORT_DIR: os.tmpdir(),
      FORESIGHT_SECRET_KEY: testSecretKey.toString('base64'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => process.env.FORESIGHT_TEST_VERBOSE && process.stderr.write(d));
  return child;
}

/** What a suite of `foresight worker` processes works with; read it inside the tests (the hooks fill it). */
export interface WorkerProcessStage {
  env: TestWorkflowEnvironment;
  shop: IngestedShop;
  /** Every worker process the suite starts: each is killed after the suite, if still running. */
  workers: ChildProcess[];
}

/** Registers the suite's hooks: a Temporal dev server and a trained shop (seed `seed`) before, every worker killed after. */
export function workerProcessStage(seed: number): WorkerProcessStage {
  const stage = { workers: [] as ChildProcess[] } as WorkerProcessStage;
  before(async function () {
    this.timeout(600_000);
    [stage.env, stage.shop] = await Promise.all([startTemporal(), trainedShop(seed)]);
  });
  after(async () => {
    for (const w of stage.workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await stage.env?.teardown();
  });
  return stage;
}
