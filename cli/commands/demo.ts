import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { shopIngestionFiles } from '../../ingestion/shop-files';
import type { GenerateSummary } from '../../datagen/generate';
import { config } from '../../lib/config';
import { migrateLatest } from '../../lib/db';
import { openDb, stackUp } from '../../stack';
import { temporalAddress } from '../../stack/temporal';
import { ingestShopWorkflow, trainAndScoreWorkflow } from '../../workflows';
import { scoringReport, trainingReport } from './models';
import { fmtInt, fmtSeconds, ingestTable, rejectReasons, table } from '../format';
import { withWorker } from '../worker';
import { describeStack } from './stack';
import { generateReport, generateWithProgress } from './generate';

const step = (n: number, text: string) => console.log(`\n== ${n}. ${text}`);

/**
 * The main job end to end on embedded defaults: stack up, schema, a synthetic shop, ingestion through a Temporal
 * workflow, then a one-screen summary of what is there and where to look.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the main job end to end: start the stack, generate a demo shop, ingest it through Temporal, summarise')
    .option('--customers <n>', 'customers in the demo shop', '20000')
    .option('--seed <n>', 'random seed of the demo shop', '42')
    .action(async (opts: { customers: string; seed: string }) => {
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
        const outDir = path.join(cfg.home, 'demo', `shop-${customers}-seed${seed}`);
        const marker = path.join(outDir, 'summary.json');
        let shop: GenerateSummary;
        if (fs.existsSync(marker)) {
          shop = JSON.parse(fs.readFileSync(marker, 'utf8')) as GenerateSummary;
          console.log(`Reusing ${outDir} (deterministic by seed; delete it to regenerate).`);
        } else {
          shop = await generateWithProgress({ customers, seed, outDir });
          fs.writeFileSync(marker, JSON.stringify(shop, null, 2));
          console.log(generateReport(shop));
        }

        step(4, 'Ingestion (Temporal workflow ingestShopWorkflow)');
        const connection = await Connection.connect({ address: temporalAddress(cfg) });
        const client = new Client({ connection, namespace: cfg.temporal.namespace });
        const summaries = await withWorker(cfg, db, () =>
          client.workflow.execute(ingestShopWorkflow, {
            taskQueue: cfg.temporal.taskQueue,
            workflowId: `demo-ingest-${customers}-${seed}-${Date.now()}`,
            args: [
              {
                files: Object.fromEntries(shopIngestionFiles(shop)),
                // Events after the export instant are impossible in an export: rejected as future_timestamp.
                notAfter: shop.exportInstant,
              },
            ],
          }),
        );
        console.log(ingestTable(summaries));
        console.log();
        console.log(rejectReasons(summaries));

        step(5, 'Models: train as of the export, score every customer (Temporal workflow trainAndScoreWorkflow)');
        const { training, scoring } = await withWorker(cfg, db, () =>
          client.workflow.execute(trainAndScoreWorkflow, {
            taskQueue: cfg.temporal.taskQueue,
            workflowId: `demo-train-score-${customers}-${seed}-${Date.now()}`,
            args: [{ asOf: shop.exportInstant, createdBy: 'demo', promote: true }],
          }),
        );
        await connection.close();
        console.log(trainingReport(training));
        console.log();
        console.log(scoringReport(scoring));
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

        step(6, 'What is in the database');
        const counts: (string | number)[][] = [];
        for (const t of [
          'customers',
          'customer_identities',
          'orders',
          'order_items',
          'returns',
          'sessions',
          'ingest_rejects',
          'model_registry',
          'customer_risk_scores',
        ]) {
          counts.push([t, fmtInt(Number((await db(t).count({ n: '*' }))[0]!.n))]);
        }
        console.log(table(['table', 'rows'], counts));
        const revenue = await db('orders').where({ status: 'completed' }).sum({ total: 'amount' }).first();
        console.log(`\nCompleted-order revenue (summed in numeric): ${revenue?.total ?? 0}`);
        console.log(`\nDone in ${fmtSeconds(Date.now() - started)}. Where to look:`);
        console.log(
          `  database      psql postgres://postgres@127.0.0.1:${cfg.postgres.port}/${cfg.postgres.database}  (password in ${path.join(cfg.home, 'postgres.json')})`,
        );
        console.log(`  rejected rows select * from ingest_rejects;   data quality: select * from data_quality;`);
        console.log(
          `  profiles      select * from customer_profiles_latest;   or: npx foresight profile ${sample?.customer_id ?? '<customer_id>'}`,
        );
        console.log(`  models        npx foresight models list;   backtest: npx foresight backtest`);
        console.log(`  Temporal UI   http://127.0.0.1:${cfg.temporal.uiPort}  (workflow ingestShopWorkflow)`);
        console.log(`  demo files    ${outDir}  (ground_truth.csv is the answer key for model evaluation)`);
        console.log(`  logs          ${cfg.logsDir};  stop the stack with: npx foresight stack down`);
      } finally {
        await db.destroy();
      }
    });
}
