import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Client, Connection, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Knex } from 'knex';
import { promotionsOf } from '../../approvals/model-promotion';
import type { Config } from '../../lib/config';
import { ForbiddenError, NotFoundError, ValidationError } from '../../lib/errors';
import { isRole, type Role } from '../../lib/roles';
import { getModel, listModels, modelHistory } from '../../registry/model-registry';
import { rollbackChampion } from '../../registry/rollback';
import { latestShadowReport } from '../../scoring/shadow-evaluation';
import { temporalAddress } from '../../stack/temporal';
import { retrainWorkflow, shadowEvaluationWorkflow } from '../../workflows';
import { decideUpdate, DEFAULT_DEADLINE_SECONDS } from '../../workflows/promotion';
import { followWorkflow } from '../follow';
import { table } from '../format';
import { dateOption, positiveWholeNumberOption } from '../options';
import { withDatabase } from '../with-db';
import { withWorker } from '../worker';
import { latestOrderAt } from './models';

/** Runs `work` with a Temporal client and a worker in this process (so nothing else needs to run), then closes both. */
async function withTemporal<T>(work: (client: Client, db: Knex, cfg: Config) => Promise<T>): Promise<T> {
  return withDatabase(
    async (db, cfg) => {
      const connection = await Connection.connect({ address: temporalAddress(cfg) });
      try {
        const client = new Client({ connection, namespace: cfg.temporal.namespace });
        return await withWorker(cfg, db, () => work(client, db, cfg));
      } finally {
        await connection.close();
      }
    },
    ['postgres', 'temporal'],
  );
}

const modelIdArgument = (id: string) => positiveWholeNumberOption(id, 'model_id');

/** `foresight models show|compare|approve|reject|rollback`. */
export function registerModelLifecycle(models: Command): void {
  models
    .command('show')
    .description('One model: its record (without the artifact), status history, shadow report and promotions')
    .argument('<model_id>')
    .action(async (id: string) => {
      await withDatabase(async (db) => {
        const { artifact: _artifact, ...model } = await getModel(db, modelIdArgument(id));
        const report = await latestShadowReport(db, model.modelId);
        console.log(
          JSON.stringify(
            {
              ...model,
              history: await modelHistory(db, model.modelId),
              shadowReport: report ? { reportId: report.reportId, evaluationRun: report.evaluationRun, createdAt: report.createdAt } : null,
              promotions: await promotionsOf(db, model.modelId),
            },
            null,
            2,
          ),
        );
      });
    });

  models
    .command('compare')
    .description('A candidate against the champion: its latest shadow evaluation report (Markdown; --json for the JSON)')
    .argument('<candidate_id>')
    .option('--json', 'print the JSON report instead')
    .option('--out <dir>', 'also write shadow-<id>.json and shadow-<id>.md there')
    .action(async (id: string, opts: { json?: boolean; out?: string }) => {
      await withDatabase(async (db) => {
        const candidateId = modelIdArgument(id);
        const stored = await latestShadowReport(db, candidateId);
        if (!stored) throw new NotFoundError(`No shadow report for model ${candidateId}: run foresight run shadow first`);
        const json = JSON.stringify(stored.report, null, 2);
        if (opts.out) {
          fs.mkdirSync(opts.out, { recursive: true });
          fs.writeFileSync(path.join(opts.out, `shadow-${candidateId}.json`), json);
          fs.writeFileSync(path.join(opts.out, `shadow-${candidateId}.md`), stored.markdown);
        }
        console.log(opts.json ? json : stored.markdown);
      });
    });

  for (const decision of ['approve', 'reject'] as const) {
    models
      .command(decision)
      .description(
        `${decision === 'approve' ? 'Approve' : 'Reject'} a candidate: the decision sent to its waiting promotion workflow (promotion-<id>)`,
      )
      .argument('<candidate_id>')
      .requiredOption('--by <name>', 'who decides (recorded)')
      .requiredOption('--reason <text>', 'why (recorded in the audit log)')
      .option('--role <role>', 'the decider\'s role; only "ml" may decide', 'ml')
      .action(async (id: string, opts: { by: string; reason: string; role: string }) => {
        const candidateId = modelIdArgument(id);
        if (!isRole(opts.role)) throw new ValidationError(`--role must be a role, got "${opts.role}"`, 'role');
        const role: Role = opts.role;
        const outcome = await withTemporal(async (client) => {
          const handle = client.workflow.getHandle(`promotion-${candidateId}`);
          try {
            return await handle.executeUpdate(decideUpdate, { args: [{ decision, by: opts.by, role, reason: opts.reason }] });
          } catch (err) {
            if (err instanceof WorkflowNotFoundError)
              throw new NotFoundError(
                `No promotion of model ${candidateId} is waiting: run foresight run shadow --candidates ${candidateId}`,
              );
            if (err instanceof WorkflowUpdateFailedError) throw new ForbiddenError(err.cause?.message ?? err.message);
            throw err;
          }
        });
        console.log(`Promotion of model ${candidateId}: ${outcome.status} by ${opts.by} (${outcome.reason}).`);
      });
  }

  models
    .command('rollback')
    .description('Restore the previous champion of a kind (the current one is retired); audited')
    .argument('<kind>', 'churn, clv or segments')
    .requiredOption('--by <name>', 'who decides (recorded)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action(async (kind: string, opts: { by: string; reason: string }) => {
      await withDatabase(async (db) => {
        const { restored, retired } = await rollbackChampion(db, {
          kind,
          actor: { name: opts.by, role: null, via: 'cli' },
          reason: opts.reason,
        });
        console.log(
          `Model ${restored.modelId} (${kind} v${restored.version}) is champion again` +
            (retired === null ? '.' : `; model ${retired} is retired.`),
        );
      });
    });
}

/** `foresight run retrain|shadow`: start a workflow and follow it. */
export function registerLifecycleRuns(run: Command): void {
  run
    .command('retrain')
    .description('Retrain churn, CLV and segments as of a date (workflow retrain-<as-of>): candidates in shadow, never promoted')
    .option('--as-of <time>', 'train on data up to this time (default: the newest order)')
    .option('--by <name>', 'who trains (recorded in the registry)', process.env.USER ?? 'cli')
    .action(async (opts: { asOf?: string; by: string }) => {
      const result = await withTemporal(async (client, db, cfg) => {
        const asOf = opts.asOf ? dateOption(opts.asOf, '--as-of') : await latestOrderAt(db);
        const handle = await client.workflow.start(retrainWorkflow, {
          taskQueue: cfg.temporal.taskQueue,
          workflowId: `retrain-${asOf.toISOString()}`,
          args: [{ asOf: asOf.toISOString(), createdBy: opts.by }],
        });
        return followWorkflow(handle, handle.result());
      });
      console.log(
        table(
          ['model', 'version', 'status', 'id'],
          result.models.map((m) => [m.kind, m.version, m.status, m.modelId]),
        ),
      );
      console.log(`Training run ${result.trainingRun}. Next: foresight run shadow`);
    });

  run
    .command('shadow')
    .description('Score candidates beside the champions and store comparison reports; then wait for a decision on each')
    .option('--candidates <ids>', 'comma-separated model ids (default: every model in shadow)')
    .option('--as-of <time>', "the snapshot to score on (default: each candidate's training as-of)")
    .option('--deadline-hours <n>', 'how long each promotion waits for a decision', String(DEFAULT_DEADLINE_SECONDS / 3600))
    .option('--no-promotion', 'do not start promotion workflows')
    .action(async (opts: { candidates?: string; asOf?: string; deadlineHours: string; promotion: boolean }) => {
      const result = await withTemporal(async (client, db, cfg) => {
        const candidateIds = opts.candidates
          ? opts.candidates.split(',').map((id) => positiveWholeNumberOption(id.trim(), 'candidates'))
          : (await listModels(db, { status: 'shadow' })).map((m) => m.modelId).reverse();
        if (candidateIds.length === 0) throw new NotFoundError('No model in shadow to evaluate: run foresight run retrain first');
        const handle = await client.workflow.start(shadowEvaluationWorkflow, {
          taskQueue: cfg.temporal.taskQueue,
          workflowId: `shadow-${candidateIds.join('-')}`,
          args: [
            {
              candidateIds,
              asOf: opts.asOf ? dateOption(opts.asOf, '--as-of').toISOString() : undefined,
              requestPromotion: opts.promotion
                ? { deadlineSeconds: positiveWholeNumberOption(opts.deadlineHours, 'deadline-hours') * 3600 }
                : undefined,
            },
          ],
        });
        return followWorkflow(handle, handle.result());
      });
      for (const { report } of result.reports) {
        const deltas = report.backtest?.metrics.map((m) => `${m.metric} ${m.delta >= 0 ? '+' : ''}${m.delta.toFixed(4)}`).join(', ');
        console.log(
          `${report.candidate.kind} v${report.candidate.version} (model ${report.candidate.modelId}) vs champion v${report.champion.version}: ` +
            `${deltas ?? report.backtestSkipped}; PSI ${report.shift.psi.toFixed(4)}`,
        );
      }
      if (result.promotions.length)
        console.log(`Waiting for a decision: ${result.promotions.join(', ')} (foresight models compare|approve|reject <id>)`);
    });
}
