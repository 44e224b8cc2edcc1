import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities } from '../activities';
import type { Config } from '../lib/config';
import { loadQualityRules } from '../quality/rules';
import { secretKey } from '../stack/postgres';
import { temporalAddress } from '../stack/temporal';
import { WEBHOOK_DISPATCHER_ID } from '../workflows/webhook-dispatch';

let runtimeInstalled = false;
/** Temporal's own logs at WARN: the CLI prints its own progress and summaries. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

/** Creates the Foresight worker: the workflows bundle plus activities bound to `db`. */
export async function createWorker(cfg: Config, db: Knex, connection: NativeConnection): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: cfg.temporal.namespace,
    taskQueue: cfg.temporal.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities(db, {
      importDir: cfg.importDir,
      qualityRules: loadQualityRules(cfg.qualityRulesFile),
      secretKey: secretKey(cfg),
    }),
  });
}

/** Runs a worker in this process while `work` runs (e.g. a client driving a workflow), then shuts it down. */
export async function withWorker<T>(cfg: Config, db: Knex, work: () => Promise<T>): Promise<T> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: temporalAddress(cfg) });
  try {
    const worker = await createWorker(cfg, db, connection);
    return await worker.runUntil(work());
  } finally {
    await connection.close();
  }
}

/** Starts the webhook dispatcher (workflows/webhook-dispatch.ts) unless it is already running. */
async function ensureWebhookDispatcher(cfg: Config): Promise<void> {
  const client = new Client({ connection: await Connection.connect({ address: temporalAddress(cfg) }), namespace: cfg.temporal.namespace });
  try {
    await client.workflow.start('webhookDispatchWorkflow', {
      taskQueue: cfg.temporal.taskQueue,
      workflowId: WEBHOOK_DISPATCHER_ID,
      args: [{}],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  } finally {
    await client.connection.close();
  }
}

/** Runs a worker until SIGINT/SIGTERM (`foresight worker`), with the webhook dispatcher running on the cluster. */
export async function runWorker(cfg: Config, db: Knex): Promise<void> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: temporalAddress(cfg) });
  try {
    const worker = await createWorker(cfg, db, connection);
    await ensureWebhookDispatcher(cfg);
    await worker.run();
  } finally {
    await connection.close();
  }
}
