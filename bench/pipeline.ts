/**
 * Features + training + scoring at scale (default 1,000,000 customers): a generated shop's customers, orders and
 * returns are ingested (sessions, items and identities are left out to keep the load step short; session features
 * are then empty), then the real pipeline runs: trainModels (churn on 4 past cutoffs + calibration cutoff, CLV with
 * its backtest, segments, embedding) and scoreCustomers (every customer, SHAP drivers included). Prints the time of
 * each stage and the peak resident memory of this process (Postgres's own memory is not counted).
 * Run: npx tsx bench/pipeline.ts [customers]
 */
import os from 'node:os';
import path from 'node:path';
import type { EntityName } from '../ingestion/entities';
import { ingestFile } from '../ingestion/ingest-file';
import { shopIngestionFiles } from '../ingestion/shop-files';
import { scoreCustomers } from '../scoring/score-customers';
import { trainModels } from '../training/train-models';
import { generateShop } from '../datagen/generate';
import { config } from '../lib/config';
import { computeFeatureSnapshot } from '../features/snapshots';
import { postgresUp } from '../stack/postgres';
import { scratchDatabase } from './scratch-database';

const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function main() {
  const customers = Number(process.argv[2] ?? 1_000_000);
  const cfg = config();
  await postgresUp(cfg);
  const stages: [string, number, string][] = [];
  const stage = async <T>(name: string, work: () => Promise<T>, note: (r: T) => string = () => ''): Promise<T> => {
    const t = Date.now();
    process.stderr.write(`${name}...\n`);
    const result = await work();
    stages.push([name, (Date.now() - t) / 1000, note(result)]);
    process.stderr.write(`${name}: ${((Date.now() - t) / 1000).toFixed(1)} s, peak RSS ${peakMiB()} MiB\n`);
    return result;
  };

  const outDir = path.join(os.tmpdir(), `foresight-bench-pipeline-${customers}`);
  const shop = await stage(
    'generate shop',
    () => generateShop({ customers, seed: 3, outDir }),
    (s) => `${s.files.orders.rows} order rows`,
  );
  const db = await scratchDatabase(cfg, 'foresight_bench_pipeline');
  const notAfter = new Date(shop.exportInstant);
  // Only customers, orders and returns (see above), in the shop's dependency order.
  const loaded: EntityName[] = ['customers', 'orders', 'returns'];
  for (const [entity, file] of shopIngestionFiles(shop).filter(([entity]) => loaded.includes(entity))) {
    await stage(
      `ingest ${entity}`,
      () => ingestFile(db, { entity, file, notAfter }),
      (s) => `${s.accepted} rows`,
    );
  }
  await db.raw('analyze');
  const asOf = notAfter;
  const baseline = await stage(
    'one feature snapshot (baseline unit of work)',
    () => computeFeatureSnapshot(db, asOf),
    (s) => `${s.customerCount} customers`,
  );
  const training = await stage(
    'train all models',
    () => trainModels(db, { asOf, createdBy: 'bench', promote: true }),
    (r) => `CLV serving ${r.clvChoice?.model ?? '-'}`,
  );
  const scoring = await stage(
    'score every customer',
    () => scoreCustomers(db, { asOf }),
    (s) => `${s.customers} customers`,
  );
  await db.destroy();

  console.log(
    `Pipeline benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg()[0]!.toFixed(1)}; ${customers} customers (${baseline.customerCount} with an order)`,
  );
  console.log('| stage | seconds | note |');
  console.log('|---|---:|---|');
  for (const [name, seconds, note] of stages) console.log(`| ${name} | ${seconds.toFixed(1)} | ${note} |`);
  console.log(
    `peak resident memory of the Node process: ${peakMiB()} MiB; models: ${training.models.map((m) => `${m.kind} v${m.version}`).join(', ')}; scored ${scoring.customers}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
