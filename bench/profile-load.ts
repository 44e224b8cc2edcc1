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
 * The API runs twice: with its cache of served profiles (the configuration's size; its hit rate over each measurement
 * is read from /metrics; every profile is read once before) and with the cache off (FORESIGHT_PROFILE_CACHE_MAX_ENTRIES=0: every request reads Postgres).
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
function startChild(
  args: string[],
  nodeOptions: string[] = [],
  env: Record<string, string> = {},
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', path.join(__dirname, 'profile-load-server.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FORESIGHT_LOG_LEVEL: process.env.FORESIGHT_LOG_LEVEL ?? 'info', ...env },
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
  /** Share of the profiles served from memory (the API with its cache only). */
  hitRate?: number;
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
  /** Profiles served from memory and from the database so far, from the API's metrics. */
  const servedBySource = async (url: string) => {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).text();
    const count = (source: string) =>
      Number(new RegExp(`^foresight_served_profiles_total\\{source="${source}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { memory: count('memory'), database: count('database') };
  };
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
    const servedBefore = endpoint.startsWith('GET') ? await servedBySource(server.url) : undefined;
    const cpuBefore = cpuMs(server.child.pid!);
    const r = await run(seconds);
    const cpu = cpuMs(server.child.pid!) - cpuBefore;
    const servedAfter = servedBefore ? await servedBySource(server.url) : undefined;
    const memory = servedAfter && servedBefore ? servedAfter.memory - servedBefore.memory : NaN;
    const database = servedAfter && servedBefore ? servedAfter.database - servedBefore.database : NaN;
    const row: Row = {
      endpoint,
      load: name,
      served: r['2xx'] / r.duration,
      p50: r.latency.p50,
      p99: r.latency.p99,
      failed: r.non2xx + r.errors + r.timeouts,
      cpuMsPerRequest: cpu / r['2xx'],
      hitRate: servedBefore ? memory / (memory + database) : undefined,
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
  const uncached = await startChild(['api', DATABASE], [], { FORESIGHT_PROFILE_CACHE_MAX_ENTRIES: '0' });
  const CACHED = `GET /customer/profile/:id (cache of ${cfg.api.profileCacheMaxEntries.toLocaleString('en')})`;
  const UNCACHED = 'GET /customer/profile/:id, cache off';
  // Every scored profile read once, 20 at a time, so that the cached API is measured warm (it keeps them all when
  // the cache is as large as the shop).
  for (let i = 0; i < ids.length; i += 20)
    await Promise.all(
      ids
        .slice(i, i + 20)
        .map((id) => fetch(`${api.url}/customer/profile/${id}`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.text())),
    );
  try {
    for (const [name, options] of [
      ['50 connections', { connections: 50 }],
      ['1,000 req/s offered', { connections: 50, overallRate: 1000 }],
    ] as const) {
      rows.push(await load('bare Express', bare, name, options));
      rows.push(await load(UNCACHED, uncached, name, options));
      rows.push(await load(CACHED, api, name, options));
    }
  } finally {
    await Promise.all([stopChild(api.child), stopChild(bare.child), stopChild(uncached.child)]);
  }

  console.log(
    `Profile load benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, ` +
      `Node ${process.version}; ${customers} customers (${ids.length} scored, ${withActions} with an action), ` +
      `profile of ${document.length} bytes (stale: ${stale}), ${seconds} s per measurement after ${WARM_UP_SECONDS} s of warm-up`,
  );
  console.log('| endpoint | load | served req/s | p50 ms | p99 ms | failed | server CPU ms per request | from memory |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.endpoint} | ${r.load} | ${Math.round(r.served).toLocaleString('en')} | ${r.p50} | ${r.p99} | ${r.failed} | ` +
        `${r.cpuMsPerRequest.toFixed(2)} | ${r.hitRate === undefined ? '' : `${(r.hitRate * 100).toFixed(1)}%`} |`,
    );
  const saturated = (endpoint: string) => rows.find((r) => r.endpoint === endpoint && r.load === '50 connections')!;
  const ratio = (endpoint: string, of: (r: Row) => number) => (of(saturated(endpoint)) / of(saturated('bare Express'))).toFixed(2);
  console.log(
    `at 50 connections, against bare Express: throughput ${ratio(CACHED, (r) => r.served)} cached, ${ratio(UNCACHED, (r) => r.served)} cache off; ` +
      `CPU ms per request ${ratio(CACHED, (r) => r.cpuMsPerRequest)} cached, ${ratio(UNCACHED, (r) => r.cpuMsPerRequest)} cache off; ` +
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
