import { Client, Connection, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import type { Config } from '../../lib/config';
import { temporalAddress } from '../../stack/temporal';
import { pipelineWorkflow, scoringWorkflow } from '../../workflows';
import { pipelineIds, pipelineProgressQuery, type DecisionsOutcome, type PipelineResult } from '../../workflows/pipeline';
import { scoringProgressQuery } from '../../workflows/scoring';
import { fmtInt } from '../format';
import { dateOption, positiveWholeNumberOption } from '../options';
import { progress as progressBar, type Progress } from '../progress';
import { withDatabase } from '../with-db';
import { withWorker } from '../worker';
import { latestOrderAt, scoringReport } from './models';

interface RunOptions {
  asOf?: string;
  partitionSize?: string;
  /** false with --no-worker: rely on `foresight worker` processes polling the task queue. */
  worker: boolean;
}

/** Shows a scoring workflow's progress (partitions and customers) until `done` settles. */
async function followScoring(handle: WorkflowHandle, done: Promise<unknown>): Promise<void> {
  let settled = false;
  void done.finally(() => (settled = true)).catch(() => undefined);
  let bar: Progress | undefined;
  while (!settled) {
    const p = await handle.query(scoringProgressQuery).catch(() => undefined);
    if (p && p.customers > 0) {
      bar ??= progressBar(`scoring run ${p.runId}`, p.customers, ' customers');
      bar.update(p.customersDone, p.customers);
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
  }
  bar?.stop();
}

/** The pipeline's decisions stage: per policy, what its evaluation released and left waiting, or why none ran. */
export function decisionsReport(decisions: DecisionsOutcome): string {
  if (decisions.skipped !== null) return `Decisions: none (${decisions.skipped})`;
  const lines = decisions.policies.map(({ policyKey, outcome }) =>
    outcome.status === 'done'
      ? `  ${policyKey}: evaluation ${outcome.result.evaluationId}, ${fmtInt(outcome.result.released)} actions approved automatically ` +
        `and released, ${fmtInt(outcome.result.pending)} waiting for approval`
      : `  ${policyKey}: already done (${outcome.workflowId})`,
  );
  return [`Decisions on scoring run ${decisions.scoringRunId}:`, ...lines].join('\n');
}

/**
 * Starts a workflow under its business key, or attaches to the one already running under it (conflict policy
 * USE_EXISTING); one that already completed for that key is not started again (reuse policy
 * ALLOW_DUPLICATE_FAILED_ONLY): its result is shown instead.
 */
async function startOrAttach(
  client: Client,
  start: () => Promise<WorkflowHandle>,
  workflowId: string,
): Promise<{ handle: WorkflowHandle; again: boolean }> {
  try {
    return { handle: await start(), again: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { handle: client.workflow.getHandle(workflowId), again: true };
  }
}

async function runWorkflow<T>(cfg: Config, db: Knex, opts: RunOptions, work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: temporalAddress(cfg) });
  try {
    const client = new Client({ connection, namespace: cfg.temporal.namespace });
    return opts.worker ? await withWorker(cfg, db, () => work(client)) : await work(client);
  } finally {
    await connection.close();
  }
}

const BUSINESS_KEY = { workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY', workflowIdConflictPolicy: 'USE_EXISTING' } as const;

/** `foresight run score|pipeline`. */
export function registerScoringRuns(run: Command): void {
  const common = (c: Command) =>
    c
      .option('--as-of <time>', 'as of this time (default: the newest order)')
      .option('--partition-size <n>', 'customers per scoring partition')
      .option('--no-worker', 'do not run a worker in this process: rely on running `foresight worker` processes');

  common(run.command('score').description('scoringWorkflow: score every customer in partitions, publish the run at once')).action(
    async (opts: RunOptions) => {
      await withDatabase(
        async (db, cfg) => {
          const asOf = opts.asOf ? dateOption(opts.asOf, '--as-of') : await latestOrderAt(db);
          const partitionSize = opts.partitionSize ? positiveWholeNumberOption(opts.partitionSize, 'partition-size') : undefined;
          const workflowId = pipelineIds(asOf.toISOString()).scoring;
          const summary = await runWorkflow(cfg, db, opts, async (client) => {
            const { handle, again } = await startOrAttach(
              client,
              () =>
                client.workflow.start(scoringWorkflow, {
                  taskQueue: cfg.temporal.taskQueue,
                  workflowId,
                  args: [{ asOf: asOf.toISOString(), partitionSize }],
                  ...BUSINESS_KEY,
                }),
              workflowId,
            );
            console.error(again ? `${workflowId} already ran: its result follows.` : `Started ${workflowId}.`);
            const result = handle.result() as Promise<Awaited<ReturnType<typeof scoringWorkflow>>>;
            if (!again) await followScoring(handle, result);
            return result;
          });
          console.log(scoringReport(summary));
        },
        ['postgres', 'temporal'],
      );
    },
  );

  common(run.command('pipeline').description('pipelineWorkflow: data-quality gate, feature refresh, scoring, active policies')).action(
    async (opts: RunOptions) => {
      await withDatabase(
        async (db, cfg) => {
          const asOf = opts.asOf ? dateOption(opts.asOf, '--as-of') : await latestOrderAt(db);
          const partitionSize = opts.partitionSize ? positiveWholeNumberOption(opts.partitionSize, 'partition-size') : undefined;
          const ids = pipelineIds(asOf.toISOString());
          const result = await runWorkflow(cfg, db, opts, async (client) => {
            const { handle, again } = await startOrAttach(
              client,
              () =>
                client.workflow.start(pipelineWorkflow, {
                  taskQueue: cfg.temporal.taskQueue,
                  workflowId: ids.pipeline,
                  args: [{ asOf: asOf.toISOString(), scoring: { partitionSize } }],
                  ...BUSINESS_KEY,
                }),
              ids.pipeline,
            );
            console.error(again ? `${ids.pipeline} already ran: its result follows.` : `Started ${ids.pipeline}.`);
            const done = handle.result() as Promise<PipelineResult>;
            let settled = again;
            void done.finally(() => (settled = true)).catch(() => undefined);
            let shown = '';
            while (!settled) {
              const p = await handle.query(pipelineProgressQuery).catch(() => undefined);
              const line = p && p.stage !== 'done' ? `stage: ${p.stage}${p.childWorkflowId ? ` (${p.childWorkflowId})` : ''}` : '';
              if (p && line !== shown) {
                shown = line;
                if (line) console.error(line);
                if (p.stage === 'scoring') {
                  // Until the scoring child ends (or, if it is not started yet, the pipeline): the decisions follow.
                  const scoring = client.workflow.getHandle(ids.scoring);
                  await followScoring(scoring, Promise.race([scoring.result().catch(() => done), done]));
                }
              }
              await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
            }
            return done;
          });
          const { refresh, scoring } = result;
          console.log(
            refresh.status === 'done'
              ? `Refresh: gate ${refresh.result.gate.status}${refresh.result.gate.warnings.map((w) => `\n  warning: ${w}`).join('')}; ` +
                  `${refresh.result.snapshot.customers} customers in the snapshot`
              : `Refresh: already done (${refresh.workflowId})`,
          );
          console.log(scoring.status === 'done' ? `\n${scoringReport(scoring.result)}` : `Scoring: already done (${scoring.workflowId})`);
          if (result.decisions) console.log(`\n${decisionsReport(result.decisions)}`);
        },
        ['postgres', 'temporal'],
      );
    },
  );
}
