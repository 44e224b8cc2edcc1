import crypto from 'node:crypto';
import os from 'node:os';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities } from '../../activities';
import { createForesightWorker, type ForesightWorker } from '../../cli/worker';
import { config, DEFAULT_PARTITIONS_PER_WORKER } from '../../lib/config';
import { DEFAULT_QUALITY_RULES } from '../../quality/rules';
import { findTemporalCli } from '../../stack/temporal';

let runtimeInstalled = false;

/** The key that seals webhook secrets in the tests' databases (FORESIGHT_SECRET_KEY in production). */
export const testSecretKey = crypto.randomBytes(32);

/** A real Temporal dev server (the CLI binary the stack uses) on free ports, private to the test file. */
export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  const path = findTemporalCli(config());
  if (!path) throw new Error('The Temporal CLI is not installed: run `npm run setup`');
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger((process.env.FORESIGHT_TEMPORAL_LOG_LEVEL as 'WARN' | undefined) ?? 'ERROR') });
    runtimeInstalled = true;
  }
  return TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path } } });
}

/**
 * The production workflows bundle and activities, bound to a test database, as `foresight worker` runs them (the
 * task queue's Worker and its scoring queue's: cli/worker.ts); test files live in the temp folder.
 */
export function testWorker(env: TestWorkflowEnvironment, db: Knex, taskQueue: string, importDir = os.tmpdir()): Promise<ForesightWorker> {
  return createForesightWorker(createActivities(db, { importDir, qualityRules: DEFAULT_QUALITY_RULES, secretKey: testSecretKey }), {
    connection: env.nativeConnection,
    taskQueue,
    partitionsPerWorker: DEFAULT_PARTITIONS_PER_WORKER,
  });
}
