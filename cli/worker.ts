import { inspect } from 'node:util';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities, type Activities } from '../activities';
import type { Config } from '../lib/config';
import { loadQualityRules } from '../quality/rules';
import { secretKey } from '../stack/postgres';
import { temporalAddress } from '../stack/temporal';
import { scoringTaskQueue } from '../workflows/scoring';
import { WEBHOOK_DISPATCHER_ID } from '../workflows/webhook-dispatch';

let runtimeInstalled = false;
/**
 * Temporal's own logs at WARN: the CLI prints its own progress and summaries. Without the warning that a Worker has no
 * workflows: the scoring Worker has none on purpose.
 */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, timestampNanos, message, meta }) => {
      if (message.startsWith('No workflows registered')) return;
      const at = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
      process.stderr.write(`${at} [${level}] ${message}${meta === undefined ? '' : ` ${inspect(meta)}`}\n`);
    }),
  });
  runtimeInstalled = true;
}

/**
 * A Foresight worker: two Temporal Workers on one connection, sharing one set of activities. `main` polls the task
 * queue with the workflows and every activity at Temporal's default slots, so webhook deliveries, approvals and
 * policy evaluation never wait behind scoring; `scoring` polls the run partitions' queue (scoringTaskQueue) with
 * `partitionsPerWorker` slots, so the process takes only the partitions it can score at full speed and leaves the
 * rest to other processes. `main` keeps scorePartition too: a run begun before the scoring queue existed has its
 * partitions scheduled on the main queue (the shared activities' slots still run at most `partitionsPerWorker`).
 * With `only: 'scoring'` there is no main Worker: a scoring-only process.
 */
export class ForesightWorker {
  private readonly workers: Worker[];

  constructor(
    readonly main: Worker | undefined,
    readonly scoring: Worker,
  ) {
    this.workers = main ? [main, scoring] : [scoring];
  }

  /** Runs the Workers until they are shut down (shutdown(), SIGINT/SIGTERM); one that fails shuts the other down. */
  async run(): Promise<void> {
    const stopped = await Promise.allSettled(this.workers.map((w) => w.run().finally(() => this.shutdown())));
    const failed = stopped.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Runs the Workers while `work` runs, then shuts them down; a Worker failing first fails this with its error. */
  async runUntil<T>(work: Promise<T> | (() => Promise<T>)): Promise<T> {
    const running = this.run();
    let result: T;
    try {
      result = await Promise.race([
        typeof work === 'function' ? work() : work,
        running.then(() => Promise.reject(new Error('The workers stopped before their work was done'))),
      ]);
    } catch (err) {
      this.shutdown();
      await running.catch(() => undefined);
      throw err;
    }
    this.shutdown();
    await running;
    return result;
  }

  /** Starts shutting down every Worker still running (they finish their current activities first). */
  shutdown(): void {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }
}

export interface ForesightWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  partitionsPerWorker: number;
  identity?: string;
  /** `scoring`: only the scoring queue's Worker (`foresight worker --only scoring`). */
  only?: 'scoring';
}

/** The Workers of a Foresight worker over `activities` (tests give mocked ones; createWorker the real ones). */
export async function createForesightWorker(
  activities: Partial<Activities> & Pick<Activities, 'scorePartition'>,
  options: ForesightWorkerOptions,
): Promise<ForesightWorker> {
  // Unset options left out, not passed as undefined: the native worker refuses an undefined identity.
  const common = {
    connection: options.connection,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  };
  const scoring = await Worker.create({
    ...common,
    taskQueue: scoringTaskQueue(options.taskQueue),
    activities: { scorePartition: activities.scorePartition },
    maxConcurrentActivityTaskExecutions: options.partitionsPerWorker,
  });
  if (options.only === 'scoring') return new ForesightWorker(undefined, scoring);
  const main = await Worker.create({
    ...common,
    taskQueue: options.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities,
  });
  return new ForesightWorker(main, scoring);
}

/** Creates the Foresight worker of the configuration: the workflows bundle plus activities bound to `db`. */
export async function createWorker(
  cfg: Config,
  db: Knex,
  connection: NativeConnection,
  options: { identity?: string; only?: 'scoring' } = {},
): Promise<ForesightWorker> {
  const partitionsPerWorker = cfg.scoring.partitionsPerWorker;
  const activities = createActivities(db, {
    importDir: cfg.importDir,
    qualityRules: loadQualityRules(cfg.qualityRulesFile),
    secretKey: secretKey(cfg),
    identity: options.identity,
    partitionsPerWorker,
  });
  return createForesightWorker(activities, {
    connection,
    namespace: cfg.temporal.namespace,
    taskQueue: cfg.temporal.taskQueue,
    partitionsPerWorker,
    ...options,
  });
}

/** Runs a worker in this process while `work` runs (e.g. a client driving a workflow), then shuts it down. */
export async function withWorker<T>(cfg: Config, db: Knex, work: () => Promise<T>): Promise<T> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: temporalAddress(cfg) });
  try {
    const worker = await createWorker(cfg, db, connection);
    return await worker.runUntil(work);
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

/**
 * Runs a worker until SIGINT/SIGTERM (`foresight worker`), with the webhook dispatcher running on the cluster; a
 * scoring-only worker (`--only scoring`) runs no workflows and starts nothing.
 */
export async function runWorker(cfg: Config, db: Knex, options: { only?: 'scoring' } = {}): Promise<void> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: temporalAddress(cfg) });
  try {
    const worker = await createWorker(cfg, db, connection, options);
    if (!options.only) await ensureWebhookDispatcher(cfg);
    await worker.run();
  } finally {
    await connection.close();
  }
}
