/**
 * GET /customer/profile/:id under load, next to a bare Express endpoint measured in the same run.
 *
 * A generated shop (default 10,000 customers, seed 7) is ingested, trained, scored and given the default policy's
 * actions, as the demo does; a service key is created. The real API app (bench/profile-load-server.ts api) and a bare
 * Express app answering a constant copy of one profile (… bare) each run in a child process of their own, and
 * autocannon loads them from this process over loopback, one at a time, with a random scored customer per request:
 * saturation at 50 connections for both, then a fixed offered rate of 1,000 requests/s. Each measurement follows a
 * warm-up of a few seconds. Served = 2xx answers per second. The server process's CPU time per served request (user
 * and system, from /proc: Linux only) is printed too: on a shared machine it moves much less than throughput does.
 *
 * Usage: npx tsx bench/profile-load.ts [customers] [seconds per measurement]
 * With FORESIGHT_BENCH_CPU_PROF=<dir>, the API process writes a V8 CPU profile there (node --cpu-prof) when it stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createApiKey } from '../access/api-keys';
import { generateShop } from '../datagen/generate';
import { ingestFile } from '../ingestion/ingest-file';
import { shopIngestionFiles } from '../ingestion/shop-files';
import { config } from '../lib/config';
import { seedDefaultPolicy } from '../policy/default-policy';
import { evaluatePolicy } from '../policy/evaluate-policy';
import { scoreCustomers } from '../scoring/score-customers';
import { postgresUp } from '../stack/postgres';
import { trainModels } from '../training/train-models';
import { scratchDatabase } from './scratch-database';

// autocannon ships no type declarations: the parts used here.
interface LoadOptions {
  url: string;
  connections: number;
  duration: number;
  overallRate?: number;
  headers?: Record<string, string>;
  requests: { method: 'GET'; setupRequest: (req: { path?: string }) => { path?: string } }[];
}
interface LoadResult {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number };
}
const autocannon = createRequire(__filename)('autocannon') as (options: LoadOptions) => Promise<LoadResult>;

const DATABASE = 'foresight_bench_profile_load';
const WARM_UP_SECONDS = 3;

/** Starts a server child process and resolves with its URL (its first line on stdout). */
function startChild(args: string[], nodeOptions: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', path.join(__dirname, 'profile-load-server.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FORESIGHT_LOG_LEVEL: process.env.FORESIGHT_LOG_LEVEL ?? 'info' },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server ${args[0]} exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).once('line', (url) => resolve({ url, child }));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Row {
  endpoint: string;
  load: string;
  served: number;
  p50: number;
  p99: number;
  failed: number;
  cpuMsPerRequest: number;
}

/** User + system CPU time of a process so far, in ms (/proc/<pid>/stat counts clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main() {
  const customers = Number(process.argv[2] ?? 10_000);
  const seconds = Number(process.argv[3] ?? 15);
  const cfg = config();
  await postgresUp(cfg);
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const result = await work();
    process.stderr.write(`${name}: ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    return result;
  };

  const outDir = path.join(os.tmpdir(), `foresight-bench-profile-load-${customers}`);
  const shop = await step('generate', () => generateShop({ customers, seed: 7, outDir }));
  const db = await scratchDatabase(cfg, DATABASE);
  const asOf = new Date(shop.exportInstant);
  await step('ingest', async () => {
    for (const [entity, file] of shopIngestionFiles(shop)) await ingestFile(db, { entity, file, notAfter: asOf });
    await db.raw('analyze');
  });
  await step('train', () => trainModels(db, { asOf, createdBy: 'bench', promote: true }));
  await step('score', () => scoreCustomers(db, { asOf }));
  const policy = await seedDefaultPolicy(db, { name: 'bench-owner', role: 'owner' });
  await step('evaluate policy', () => evaluatePolicy(db, policy.policyKey, { name: 'bench', role: null }));
  const { key } = await createApiKey(db, { name: 'bench-load', role: 'service', createdBy: 'bench' });
  const ids = (await db('customer_profiles_latest').pluck('customer_id')) as string[];
  const withActions = Number((await db('actions').countDistinct({ n: 'customer_id' }))[0]!.n);
  await db.destroy();

  const randomProfile = (req: { path?: string }) => ({ ...req, path: `/customer/profile/${ids[Math.floor(Math.random() * ids.length)]}` });
  const load = async (
    endpoint: string,
    server: { url: string; child: ChildProcess },
    name: string,
    options: { connections: number; overallRate?: number },
  ) => {
    const run = (duration: number) =>
      autocannon({
        url: server.url,
        duration,
        headers: { authorization: `Bearer ${key}` },
        requests: [{ method: 'GET', setupRequest: randomProfile }],
        ...options,
      });
    await run(WARM_UP_SECONDS);
    const cpuBefore = cpuMs(server.child.pid!);
    const r = await run(seconds);
    const cpu = cpuMs(server.child.pid!) - cpuBefore;
    const row: Row = {
      endpoint,
      load: name,
      served: r['2xx'] / r.duration,
      p50: r.latency.p50,
      p99: r.latency.p99,
      failed: r.non2xx + r.errors + r.timeouts,
      cpuMsPerRequest: cpu / r['2xx'],
    };
    process.stderr.write(`${endpoint}, ${name}: ${JSON.stringify(row)}\n`);
    return row;
  };

  const rows: Row[] = [];
  const profileDir = process.env.FORESIGHT_BENCH_CPU_PROF;
  const api = await startChild(['api', DATABASE], profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : []);
  const sample = await fetch(`${api.url}/customer/profile/${ids[0]}`, { headers: { authorization: `Bearer ${key}` } });
  if (!sample.ok) throw new Error(`the API answered ${sample.status}: ${await sample.text()}`);
  const document = await sample.text();
  const stale = (JSON.parse(document) as { stale: boolean }).stale;
  const documentFile = path.join(outDir, 'profile.json');
  fs.writeFileSync(documentFile, document);
  const bare = await startChild(['bare', documentFile]);
  try {
    rows.push(await load('bare Express', bare, '50 connections', { connections: 50 }));
    rows.push(await load('GET /customer/profile/:id', api, '50 connections', { connections: 50 }));
    rows.push(await load('bare Express', bare, '1,000 req/s offered', { connections: 50, overallRate: 1000 }));
    rows.push(await load('GET /customer/profile/:id', api, '1,000 req/s offered', { connections: 50, overallRate: 1000 }));
  } finally {
    await Promise.all([stopChild(api.child), stopChild(bare.child)]);
  }

  console.log(
    `Profile load benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, ` +
      `Node ${process.version}; ${customers} customers (${ids.length} scored, ${withActions} with an action), ` +
      `profile of ${document.length} bytes (stale: ${stale}), ${seconds} s per measurement after ${WARM_UP_SECONDS} s of warm-up`,
  );
  console.log('| endpoint | load | served req/s | p50 ms | p99 ms | failed | server CPU ms per request |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.endpoint} | ${r.load} | ${Math.round(r.served).toLocaleString('en')} | ${r.p50} | ${r.p99} | ${r.failed} | ${r.cpuMsPerRequest.toFixed(2)} |`,
    );
  const saturated = (endpoint: string) => rows.find((r) => r.endpoint === endpoint && r.load === '50 connections')!.served;
  console.log(
    `profile / bare throughput at 50 connections: ${(saturated('GET /customer/profile/:id') / saturated('bare Express')).toFixed(2)}; ` +
      `load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
