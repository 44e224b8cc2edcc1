import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/client';
import { createApiKey } from '../../access/api-keys';
import { createSubscription, listSubscriptions } from '../../delivery/subscriptions';
import type { IngestSummary } from '../../ingestion/ingest-file';
import { shopIngestionFiles } from '../../ingestion/shop-files';
import { DRIFT_DAYS, DRIFTS, type GenerateSummary } from '../../datagen/generate';
import { config } from '../../lib/config';
import { migrateLatest } from '../../lib/db';
import { MS_PER_DAY } from '../../lib/horizons';
import { ROLES } from '../../lib/roles';
import { seedDefaultPolicy } from '../../policy/default-policy';
import type { ShadowReport } from '../../scoring/shadow-report';
import { openDb, stackUp } from '../../stack';
import { secretKey } from '../../stack/postgres';
import { waitFor } from '../../stack/process';
import { serviceStatus, startService, stopService } from '../../stack/services';
import { temporalAddress } from '../../stack/temporal';
import type { PipelineResult } from '../../workflows/pipeline';
import { pipelineIds } from '../../workflows/pipeline';
import type { PolicyEvaluationResult } from '../../workflows/policy-evaluation';
import { decideUpdate, promotionStateQuery } from '../../workflows/promotion';
import type { RetrainResult } from '../../workflows/retrain';
import type { ShadowEvaluationResult } from '../../workflows/shadow-evaluation';
import { monitoringLine, scoringReport } from './models';
import { fmtInt, fmtSeconds, ingestTable, rejectReasons, table } from '../format';
import { demoOfferResponse } from './demo-offer-response';
import { decisionsReport } from './run-scoring';
import { describeStack } from './stack';
import { generateReport, generateWithProgress, modeOption } from './generate';

let stepStarted = Date.now();
/** Each step's heading, after the time the previous one took. */
const step = (n: number, text: string) => {
  if (n > 1) console.log(`(${fmtSeconds(Date.now() - stepStarted)})`);
  stepStarted = Date.now();
  console.log(`\n== ${n}. ${text}`);
};

/**
 * The main job end to end on embedded defaults: stack up, schema, a synthetic shop, ingestion through a Temporal
 * workflow, then a one-screen summary of what is there and where to look.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the main job end to end: start the stack, generate a demo shop, ingest it through Temporal, summarise')
    .option('--customers <n>', 'customers in the demo shop', '10000')
    .option('--seed <n>', 'random seed of the demo shop', '42')
    .option(
      '--drift <feature>',
      `a shop with a drift in its last ${DRIFT_DAYS} days (${DRIFTS.join(' or ')}): the second pipeline's monitoring opens a ` +
        'drift alert and every action waits for approval until an owner resolves it (use a fresh FORESIGHT_HOME)',
    )
    .action(async (opts: { customers: string; seed: string; drift?: string }) => {
      const started = Date.now();
      const cfg = config();
      step(1, 'Local stack');
      console.log(describeStack(await stackUp(cfg)));

      const db = openDb(cfg);
      try {
        step(2, 'Database schema');
        const applied = await migrateLatest(db);
        console.log(applied.length ? `Applied ${applied.length} migration(s).` : 'Up to date.');

        step(3, 'Demo shop');
        const customers = Number(opts.customers);
        const seed = Number(opts.seed);
        const drift = modeOption(opts.drift, 'drift', DRIFTS);
        const outDir = path.join(cfg.home, 'demo', `shop-${customers}-seed${seed}${drift && drift !== 'none' ? `-drift-${drift}` : ''}`);
        const marker = path.join(outDir, 'summary.json');
        let shop: GenerateSummary;
        if (fs.existsSync(marker)) {
          shop = JSON.parse(fs.readFileSync(marker, 'utf8')) as GenerateSummary;
          console.log(`Reusing ${outDir} (deterministic by seed; delete it to regenerate).`);
        } else {
          shop = await generateWithProgress({ customers, seed, outDir, drift });
          fs.writeFileSync(marker, JSON.stringify(shop, null, 2));
          console.log(generateReport(shop));
        }

        step(4, 'Background services: the Temporal worker (foresight worker)');
        // The demo is a client from here on, like any user: the background worker runs every workflow, and stays up
        // for what people do afterwards (approvals from the console, webhook deliveries).
        await startService(cfg, 'worker', ['worker']);
        console.log(`foresight worker running (log ${serviceStatus(cfg, 'worker').log})`);
        const connection = await Connection.connect({ address: temporalAddress(cfg) });
        const client = new Client({ connection, namespace: cfg.temporal.namespace });
        // A business key per step: running the demo again attaches to the same workflows (a running one, or the
        // result of a completed one) instead of repeating them.
        const run = async <T>(workflow: string, workflowId: string, args: unknown[]): Promise<T> => {
          try {
            return (await client.workflow.execute(workflow, {
              taskQueue: cfg.temporal.taskQueue,
              workflowId,
              args,
              workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
              workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            })) as T;
          } catch (err) {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            return (await client.workflow.getHandle(workflowId).result()) as T;
          }
        };
        const day = (iso: string) => iso.slice(0, 10);
        const exportAt = shop.exportInstant;
        const earlier = new Date(new Date(exportAt).getTime() - 30 * MS_PER_DAY).toISOString();

        step(5, 'Ingestion (workflow ingestShopWorkflow)');
        const summaries = await run<IngestSummary[]>('ingestShopWorkflow', `demo-ingest-${customers}-${seed}`, [
          // Events after the export instant are impossible in an export: rejected as future_timestamp.
          { files: Object.fromEntries(shopIngestionFiles(shop)), notAfter: exportAt },
        ]);
        console.log(ingestTable(summaries));
        console.log();
        console.log(rejectReasons(summaries));

        step(6, `First models as of ${day(earlier)} (retrainWorkflow): the first of each kind becomes champion`);
        const first = await run<RetrainResult>('retrainWorkflow', `retrain-${day(earlier)}`, [{ asOf: earlier, createdBy: 'demo' }]);
        console.log(modelsTable(first.models));

        step(7, `Daily pipeline for ${day(earlier)} (pipelineWorkflow: data-quality gate, snapshot, partitioned scoring, active policies)`);
        const firstRun = await run<PipelineResult>('pipelineWorkflow', pipelineIds(earlier).pipeline, [{ asOf: earlier }]);
        console.log(pipelineSummary(firstRun));

        step(8, `Retraining as of ${day(exportAt)} (retrainWorkflow): new candidates run in shadow`);
        const second = await run<RetrainResult>('retrainWorkflow', `retrain-${day(exportAt)}`, [{ asOf: exportAt, createdBy: 'demo' }]);
        console.log(modelsTable(second.models));
        const candidates = second.models.filter((m) => m.status === 'shadow').map((m) => m.modelId);

        step(9, 'Shadow evaluation (shadowEvaluationWorkflow), then promotions waiting for a person (promotionWorkflow)');
        const shadow = await run<ShadowEvaluationResult>('shadowEvaluationWorkflow', `shadow-${day(exportAt)}`, [
          { candidateIds: candidates, asOf: exportAt, requestPromotion: {} },
        ]);
        for (const { candidateId, report } of shadow.reports) console.log(`model ${candidateId}: ${shadowHeadline(report)}`);
        for (const workflowId of shadow.promotions) {
          const handle = client.workflow.getHandle(workflowId);
          const state = await handle.query(promotionStateQuery);
          if (state.status !== 'waiting') {
            console.log(`${workflowId}: ${state.status}`);
            continue;
          }
          // The demo plays the ML engineer here, and says so: in real use a person sends this decision.
          const outcome = await handle.executeUpdate(decideUpdate, {
            args: [
              { decision: 'approve', by: 'demo-ml', role: 'ml', reason: 'demo: approved as the ML user after reading the shadow report' },
            ],
          });
          console.log(`${workflowId}: the demo approved it as the ML user "demo-ml" -> ${outcome.status}`);
        }

        step(10, `Daily pipeline for ${day(exportAt)} with the new champions`);
        const secondRun = await run<PipelineResult>('pipelineWorkflow', pipelineIds(exportAt).pipeline, [{ asOf: exportAt }]);
        console.log(pipelineSummary(secondRun));
        const scored = secondRun.scoring.status === 'done' ? secondRun.scoring.result : undefined;
        if (scored) console.log('\n' + scoringReport(scored));
        const sample = await db('customer_profiles_latest')
          .where({ risk_band: 'high' })
          .orderBy('clv_expected_net_revenue', 'desc')
          .first();
        if (sample) {
          console.log(
            `\nA high-risk, high-value customer (${sample.customer_id}): churn ${(100 * sample.churn_probability).toFixed(0)}%, ` +
              `CLV ${sample.clv_expected_net_revenue}, segment ${sample.segment}, confidence ${sample.confidence}. Why:`,
          );
          for (const d of sample.churn_drivers as { sentence: string }[]) console.log(`  - ${d.sentence}`);
        }

        step(11, 'Decisions: the default policy, a webhook receiver, policy evaluation (policyEvaluationWorkflow)');
        const receiverPort = cfg.api.port + 1;
        const receiverUrl = `http://127.0.0.1:${receiverPort}/`;
        const existing = (await listSubscriptions(db)).find((sub) => sub.url === receiverUrl && sub.active);
        const subscription = existing
          ? undefined
          : await createSubscription(
              db,
              secretKey(cfg),
              { url: receiverUrl, eventTypes: ['action.approved'], description: 'demo receiver' },
              {
                actor: 'demo',
                role: null,
              },
            );
        const receivedFile = path.join(cfg.home, 'demo', 'received.jsonl');
        if (subscription) {
          await stopService(cfg, 'receiver');
          await startService(
            cfg,
            'receiver',
            ['receiver', '--port', String(receiverPort), '--secret', subscription.secret, '--record', receivedFile],
            {
              port: receiverPort,
            },
          );
        } else if (!serviceStatus(cfg, 'receiver').running)
          console.log(
            'The demo receiver is not running and its secret was shown only once: deliveries will wait (dead letter after the last try).',
          );
        const policy = await seedDefaultPolicy(db, { name: 'demo-owner', role: 'owner' });
        console.log(
          `Policy ${policy.policyKey} v${policy.version} active (drafted by foresight-defaults, approved and activated by demo-owner).`,
        );
        // The pipelines above ran before the policy existed (their decisions stage found no active policy); this is the
        // evaluation the day's pipeline would have run, under the same business key, so it happens once either way.
        const evaluation = await run<PolicyEvaluationResult>('policyEvaluationWorkflow', pipelineIds(exportAt).policy(policy.policyKey), [
          { policyKey: policy.policyKey, startedBy: 'demo' },
        ]);
        console.log(
          `Evaluation ${evaluation.evaluationId}: ${fmtInt(evaluation.released)} actions approved automatically (low impact) and sent, ` +
            `${fmtInt(evaluation.pending)} waiting for a person in the approval queue.`,
        );
        console.log(table(['action', 'status', 'actions'], await actionCounts(db, evaluation.evaluationId)));
        const delivered = await waitFor(async () => (await deliveredCount(db)) >= Math.min(evaluation.released, 1), 60_000, 500);
        console.log(
          `Webhooks delivered to the local receiver ${receiverUrl} (signatures verified there): ${fmtInt(await deliveredCount(db))}` +
            (delivered ? '' : ' so far (the worker goes on delivering)') +
            `; it records what it processed in ${receivedFile}.`,
        );

        step(12, 'The holdout over a simulated 90-day horizon: a response to the offers is simulated (an assumption), then measured');
        const responses = await demoOfferResponse(db, evaluation.evaluationId, outDir, (files, notAfter) =>
          run<IngestSummary[]>('ingestShopWorkflow', `demo-offer-response-${evaluation.evaluationId}`, [{ files, notAfter }]),
        );
        for (const line of responses) console.log(line);
        await connection.close();

        step(13, 'The API and the web console (foresight serve), and a key per role');
        await startService(cfg, 'api', ['serve'], { port: cfg.api.port });
        const base = `http://127.0.0.1:${cfg.api.port}`;
        const keys: (string | number)[][] = [];
        for (const role of ROLES) {
          const created = await createApiKey(db, { name: `demo-${role}`, role, createdBy: 'demo' });
          keys.push([role, created.key]);
        }
        console.log(table(['role', 'API key (shown once; also sign in to the console with it)'], keys));
        const key = (role: string) => keys.find(([r]) => r === role)![1];
        const pendingAction = await db('actions as a')
          .join('decisions as d', 'd.decision_id', 'a.decision_id')
          .where({ 'd.evaluation_id': evaluation.evaluationId, 'a.status': 'pending_approval' })
          .first('a.action_id');
        console.log(`\nTry:`);
        console.log(`  curl -H "Authorization: Bearer ${key('support')}" ${base}/customer/profile/${sample?.customer_id ?? 'C0000001'}`);
        console.log(`  curl -H "Authorization: Bearer ${key('owner')}" ${base}/approvals`);
        if (pendingAction)
          console.log(
            `  curl -X POST -H "Authorization: Bearer ${key('owner')}" -H 'Content-Type: application/json' ` +
              `-d '{"reason":"looks right"}' ${base}/approvals/${pendingAction.action_id}/approve`,
          );
        console.log(`  curl -H "Authorization: Bearer ${key('ml')}" ${base}/models`);
        console.log(`  curl -H "Authorization: Bearer ${key('finance')}" ${base}/overview`);
        console.log(`  curl -H "Authorization: Bearer ${key('finance')}" "${base}/impact?policyVersion=${policy.versionId}&format=csv"`);
        console.log(`  curl ${base}/openapi.json`);

        step(14, 'What is in the database');
        const counts: (string | number)[][] = [];
        for (const t of [
          'customers',
          'orders',
          'order_items',
          'returns',
          'sessions',
          'ingest_rejects',
          'model_registry',
          'customer_risk_scores',
          'actions',
        ]) {
          counts.push([t, fmtInt(Number((await db(t).count({ n: '*' }))[0]!.n))]);
        }
        console.log(table(['table', 'rows'], counts));
        const revenue = await db('orders').where({ status: 'completed' }).sum({ total: 'amount' }).first();
        console.log(`\nCompleted-order revenue (summed in numeric): ${revenue?.total ?? 0}`);
        console.log(`\nDone in ${fmtSeconds(Date.now() - started)}. Where to look:`);
        console.log(`  web console   ${base}/  (sign in with a key above)`);
        console.log(
          `  Temporal UI   http://127.0.0.1:${cfg.temporal.uiPort}  (workflows demo-ingest-*, retrain-*, pipeline-*, refresh-*, scoring-*, shadow-*, promotion-*, policy-*, approval-*)`,
        );
        console.log(`  models        npx foresight models list;   npx foresight models compare <id>;   npx foresight backtest`);
        console.log(`  data quality  npx foresight quality;   rejected rows: select * from ingest_rejects;`);
        console.log(
          `  database      psql postgres://postgres@127.0.0.1:${cfg.postgres.port}/${cfg.postgres.database}  (password in ${path.join(cfg.home, 'postgres.json')})`,
        );
        console.log(`  demo files    ${outDir}  (ground_truth.csv is the answer key for model evaluation)`);
        console.log(`  logs          ${cfg.logsDir};  stop everything with: npx foresight stack down`);
      } finally {
        await db.destroy();
      }
    });
}

function modelsTable(models: RetrainResult['models']): string {
  return table(
    ['model', 'version', 'status', 'id'],
    models.map((m) => [m.kind, m.version, m.status, m.modelId]),
  );
}

function pipelineSummary(result: PipelineResult): string {
  const refresh =
    result.refresh.status === 'done'
      ? `gate ${result.refresh.result.gate.status}, ${fmtInt(result.refresh.result.snapshot.customers)} customers in the snapshot`
      : 'already done';
  const scoring =
    result.scoring.status === 'done'
      ? `run ${result.scoring.result.runId} published, ${fmtInt(result.scoring.result.customers)} customers; ${monitoringLine(result.scoring.result.monitoring)}`
      : 'already done';
  const decisions = result.decisions ? `\n${decisionsReport(result.decisions)}` : '';
  return `refresh-${result.asOf.slice(0, 10)}: ${refresh}\nscoring-${result.asOf.slice(0, 10)}: ${scoring}${decisions}`;
}

function shadowHeadline(report: ShadowReport): string {
  const metrics = report.backtest?.metrics.map((m) => `${m.metric} ${m.champion.toFixed(3)} -> ${m.candidate.toFixed(3)}`).join(', ');
  return `${report.candidate.kind} v${report.candidate.version} vs champion v${report.champion.version}: ${metrics ?? report.backtestSkipped ?? 'no backtest'}; PSI ${report.shift.psi.toFixed(3)}`;
}

async function actionCounts(db: Knex, evaluationId: number): Promise<(string | number)[][]> {
  const rows = (await db('actions as a')
    .join('decisions as d', 'd.decision_id', 'a.decision_id')
    .where('d.evaluation_id', evaluationId)
    .groupBy('a.action_type', 'a.status')
    .orderBy(['a.action_type', 'a.status'])
    .select('a.action_type', 'a.status')
    .count({ n: '*' })) as { action_type: string; status: string; n: string }[];
  return rows.map((r) => [r.action_type, r.status, fmtInt(Number(r.n))]);
}

async function deliveredCount(db: Knex): Promise<number> {
  return Number((await db('webhook_deliveries').where({ status: 'delivered' }).count({ n: '*' }))[0]!.n);
}
