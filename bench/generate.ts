/**
 * Generator throughput: `generateShop` for N customers (default 1,000,000) into a temporary folder, then
 * customers/s, rows/s, bytes written, elapsed time and peak RSS. The folder is removed afterwards unless
 * --keep is given.
 * Run: npx tsx bench/generate.ts [customers] [--keep]
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateShop } from '../datagen/generate';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const customers = Number(args.find((arg) => arg !== '--keep') ?? 1_000_000);
  const outDir = await mkdtemp(join(tmpdir(), 'foresight-bench-generate-'));
  const cpuBefore = process.cpuUsage();
  let lastReport = Date.now();
  const summary = await generateShop({ customers, seed: 1, outDir }, (done, total) => {
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      process.stderr.write(`  ${done.toLocaleString('en')} / ${total.toLocaleString('en')} customers\n`);
    }
  });
  const cpu = process.cpuUsage(cpuBefore);

  const files = Object.values(summary.files);
  const sizes = await Promise.all(files.map(async (file) => (await stat(file.path)).size));
  const rows = files.reduce((sum, file) => sum + file.rows, 0);
  const bytes = sizes.reduce((sum, size) => sum + size, 0);
  const seconds = summary.elapsedMs / 1000;
  const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(0)} MB`;

  console.log(`generate: ${customers.toLocaleString('en')} customers, seed 1, Node ${process.version}`);
  for (const [i, file] of files.entries()) {
    console.log(
      `  ${file.path.slice(outDir.length + 1).padEnd(18)} ${file.rows.toLocaleString('en').padStart(12)} rows ${mb(sizes[i]).padStart(8)}`,
    );
  }
  console.log(
    `  elapsed            ${seconds.toFixed(1)} s (CPU user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s)`,
  );
  console.log(`  customers/s        ${Math.round(customers / seconds).toLocaleString('en')}`);
  console.log(`  rows/s             ${Math.round(rows / seconds).toLocaleString('en')} (${rows.toLocaleString('en')} rows, all files)`);
  console.log(`  written            ${mb(bytes)} (${mb(bytes / seconds)}/s)`);
  // maxRSS is in kilobytes: the high-water mark of the whole process.
  console.log(`  peak RSS           ${mb(process.resourceUsage().maxRSS * 1024)}`);

  if (keep) console.log(`  kept in ${outDir}`);
  else await rm(outDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
