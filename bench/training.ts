/**
 * Training time (default 200,000 customers): a generated shop's customers, orders and returns are ingested, the one
 * feature snapshot that is the unit of every stage is measured, then trainModels trains every model as of the export
 * with each of its steps timed (every snapshot, churn candidate fit, BG/NBD fit, CLV bake-off fit, segments).
 * Run: npx tsx bench/training.ts [customers]
 */
import os from 'node:os';
import path from 'node:path';
import type { EntityName } from '../ingestion/entities';
import { ingestFile } from '../ingestion/ingest-file';
import { shopIngestionFiles } from '../ingestion/shop-files';
import { generateShop } from '../datagen/generate';
import { computeFeatureSnapshot } from '../features/snapshots';
import { config } from '../lib/config';
import { postgresUp } from '../stack/postgres';
import { StepTimings } from '../training/step-timings';
import { trainModels } from '../training/train-models';
import { scratchDatabase } from './scratch-database';

const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function main() {
  const customers = Number(process.argv[2] ?? 200_000);
  const cfg = config();
  await postgresUp(cfg);
  const stages = new StepTimings();
  const stage = <T>(name: string, work: () => Promise<T>, note: (r: T) => string): Promise<T> => {
    process.stderr.write(`${name}...\n`);
    return stages.time(name, work, note).finally(() => process.stderr.write(`${name}: ${(stages.steps.at(-1)!.ms / 1000).toFixed(1)} s\n`));
  };

  const outDir = path.join(os.tmpdir(), `foresight-bench-training-${customers}`);
  const shop = await stage(
    'generate shop',
    () => generateShop({ customers, seed: 3, outDir }),
    (s) => `${s.files.orders.rows} order rows`,
  );
  const db = await scratchDatabase(cfg, 'foresight_bench_training');
  const asOf = new Date(shop.exportInstant);
  const loaded: EntityName[] = ['customers', 'orders', 'returns'];
  for (const [entity, file] of shopIngestionFiles(shop).filter(([entity]) => loaded.includes(entity)))
    await stage(
      `ingest ${entity}`,
      () => ingestFile(db, { entity, file, notAfter: asOf }),
      (s) => `${s.accepted} rows`,
    );
  await db.raw('analyze');
  const baseline = await stage(
    'one feature snapshot (the unit)',
    () => computeFeatureSnapshot(db, asOf),
    (s) => `${s.customerCount} customers`,
  );
  const load = [os.loadavg()[0]!];
  const steps = new StepTimings();
  await stage(
    'train all models',
    () => trainModels(db, { asOf, createdBy: 'bench', promote: true, timings: steps }),
    (r) =>
      r.models
        .map((m) => `${m.kind} v${m.version} (${String(m.metrics.serving ?? (m.metrics.choice as { model?: string })?.model ?? '')})`)
        .join(', '),
  );
  load.push(os.loadavg()[0]!);
  await db.destroy();

  const unit = stages.steps.find((s) => s.step.startsWith('one feature snapshot'))!.ms;
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const units = (ms: number) => (ms / unit).toFixed(2);
  console.log(
    `Training benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${load.map((l) => l.toFixed(1)).join(' → ')} (before → after training); ` +
      `${customers} customers (${baseline.customerCount} with an order)`,
  );
  console.log('\n| stage | seconds | units | note |\n|---|---:|---:|---|');
  for (const s of stages.steps) console.log(`| ${s.step} | ${seconds(s.ms)} | ${units(s.ms)} | ${s.note ?? ''} |`);

  // Steps grouped by kind (the part before the first ':' with dates removed), then each step.
  const groups = new Map<string, { ms: number; count: number }>();
  for (const s of steps.steps) {
    const group = `${s.step.split(':')[0]!.replace(/ \d{4}-\d{2}-\d{2}/, '')}:${s.step.split(':')[1] ?? ''}`;
    const g = groups.get(group) ?? { ms: 0, count: 0 };
    groups.set(group, { ms: g.ms + s.ms, count: g.count + 1 });
  }
  console.log('\n| training step (summed) | count | seconds | units |\n|---|---:|---:|---:|');
  for (const [group, g] of groups) console.log(`| ${group} | ${g.count} | ${seconds(g.ms)} | ${units(g.ms)} |`);
  console.log('\n| training step | seconds | units | note |\n|---|---:|---:|---|');
  for (const s of steps.steps) console.log(`| ${s.step} | ${seconds(s.ms)} | ${units(s.ms)} | ${s.note ?? ''} |`);
  console.log(`\npeak resident memory of the Node process: ${peakMiB()} MiB`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
