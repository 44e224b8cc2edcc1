import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { projectRoot } from '../../lib/project-root';
import type { IngestedShop } from './shop';
import { testSecretKey } from './temporal';

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
