/**
 * Ingestion throughput: a generated shop (default 100,000 customers) into a fresh database on the local stack.
 * Baselines in the same run: reading + parsing the CSV alone (the floor of any ingestion), and Postgres's own
 * bulk insert of the same number of order rows with no validation (INSERT ... SELECT from generate_series).
 * Run: npx tsx bench/ingest.ts [customers]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ingestFile } from '../ingestion/ingest-file';
import { readRows } from '../ingestion/read-rows';
import { shopIngestionFiles } from '../ingestion/shop-files';
import { generateShop } from '../datagen/generate';
import { config } from '../lib/config';
import { postgresUp } from '../stack/postgres';
import { scratchDatabase } from './scratch-database';

async function main() {
  const customers = Number(process.argv[2] ?? 100_000);
  const cfg = config();
  await postgresUp(cfg);
  const outDir = path.join(os.tmpdir(), `foresight-bench-shop-${customers}`);
  const shop = await generateShop({ customers, seed: 1, outDir });
  const db = await scratchDatabase(cfg, 'foresight_bench_ingest');

  const ordersFile = shop.files.orders.path;
  let t = Date.now();
  let parsed = 0;
  for await (const _row of readRows(ordersFile, 'csv', cfg.ingest)) parsed++;
  const parseRate = parsed / ((Date.now() - t) / 1000);

  const notAfter = new Date(shop.exportInstant);
  const order = shopIngestionFiles(shop);
  const results: { entity: string; rows: number; first: number; again: number }[] = [];
  for (const [entity, file] of order) {
    t = Date.now();
    const s = await ingestFile(db, { entity, file, notAfter });
    const first = (Date.now() - t) / 1000;
    results.push({ entity, rows: s.rowsTotal, first, again: 0 });
  }
  const tables = ['customers', 'customer_identities', 'orders', 'order_items', 'returns', 'sessions', 'ingest_batches', 'ingest_rejects'];
  const countAll = async () => {
    const counts: Record<string, number> = {};
    for (const table of tables) counts[table] = Number((await db(table).count({ n: '*' }))[0]!.n);
    return counts;
  };
  const countsAfterFirst = await countAll();
  for (const [i, [entity, file]] of order.entries()) {
    t = Date.now();
    await ingestFile(db, { entity, file, notAfter });
    results[i]!.again = (Date.now() - t) / 1000;
  }

  const countsAfterSecond = await countAll();
  const unchanged = JSON.stringify(countsAfterFirst) === JSON.stringify(countsAfterSecond);

  // Postgres alone: the same number of order rows, no parsing, no validation, no Node.
  await db.raw('create table bench_orders (like orders including all)');
  t = Date.now();
  await db.raw(
    `insert into bench_orders (order_id, customer_id, ordered_at, amount, currency, discount_amount, channel, status)
     select 'B' || g, 'C' || (g % 1000), now(), 10.5, 'EUR', 0, 'web', 'completed' from generate_series(1, ?) g`,
    [parsed],
  );
  const pgRate = parsed / ((Date.now() - t) / 1000);
  await db.destroy();

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `Ingestion benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  console.log(`shop: ${customers} customers, files in ${outDir}`);
  console.log('| file | rows | first ingest (s) | rows/s | re-ingest, no change (s) | rows/s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.entity} | ${r.rows} | ${r.first.toFixed(1)} | ${Math.round(r.rows / r.first)} | ${r.again.toFixed(1)} | ${Math.round(r.rows / r.again)} |`,
    );
  }
  console.log(
    `baselines on orders.csv: CSV parse only ${Math.round(parseRate)} rows/s; Postgres bulk INSERT..SELECT (no FK) ${Math.round(pgRate)} rows/s`,
  );
  console.log(`table counts after the first ingest: ${JSON.stringify(countsAfterFirst)}`);
  console.log(
    `second ingest of the same files left every table count unchanged: ${unchanged ? 'yes' : `NO: ${JSON.stringify(countsAfterSecond)}`}`,
  );
  if (!unchanged) process.exitCode = 1;
  fs.rmSync(outDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
