import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../lib/config';
import { DependencyError } from '../lib/errors';
import { isProcessAlive, readPidFile, stopProcess, tailFile, waitFor } from './process';

/**
 * The Temporal CLI dev server of the local stack (SQLite file under FORESIGHT_HOME), run detached until
 * `stack down`. With TEMPORAL_ADDRESS set, that cluster is used instead and nothing is started.
 */

export interface TemporalStatus {
  mode: 'dev-server' | 'external';
  running: boolean;
  address: string;
  pid?: number;
  uiUrl?: string;
  binary?: string;
}

const pidFile = (cfg: Config) => path.join(cfg.home, 'temporal.pid');
const logFile = (cfg: Config) => path.join(cfg.logsDir, 'temporal.log');

/** TEMPORAL_CLI_PATH, else `temporal` on PATH, else where `go install` puts it; undefined when none exists. */
export function findTemporalCli(cfg: Config): string | undefined {
  if (cfg.temporal.cliPath) return fs.existsSync(cfg.temporal.cliPath) ? cfg.temporal.cliPath : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'temporal');
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' });
  const goBin = gopath.status === 0 ? path.join(gopath.stdout.trim(), 'bin', 'temporal') : undefined;
  return goBin && fs.existsSync(goBin) ? goBin : undefined;
}

export function temporalAddress(cfg: Config): string {
  return cfg.temporal.address ?? `127.0.0.1:${cfg.temporal.port}`;
}

async function isHealthy(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2000 });
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export async function temporalStatus(cfg: Config): Promise<TemporalStatus> {
  const address = temporalAddress(cfg);
  if (cfg.temporal.address) return { mode: 'external', running: await isHealthy(address, cfg.temporal.namespace), address };
  const pid = readPidFile(pidFile(cfg));
  const alive = pid !== undefined && isProcessAlive(pid);
  const running = alive && (await isHealthy(address, cfg.temporal.namespace));
  return {
    mode: 'dev-server',
    running,
    address,
    pid: alive ? pid : undefined,
    uiUrl: `http://127.0.0.1:${cfg.temporal.uiPort}`,
    binary: findTemporalCli(cfg),
  };
}

export async function temporalUp(cfg: Config): Promise<TemporalStatus> {
  const address = temporalAddress(cfg);
  if (cfg.temporal.address) {
    if (!(await isHealthy(address, cfg.temporal.namespace))) {
      throw new DependencyError(`Temporal at TEMPORAL_ADDRESS=${address} is not reachable or lacks namespace ${cfg.temporal.namespace}`);
    }
    return temporalStatus(cfg);
  }
  const current = await temporalStatus(cfg);
  if (current.running) return current;
  const binary = findTemporalCli(cfg);
  if (!binary)
    throw new DependencyError(
      'The Temporal CLI was not found; run `npm run setup` (it go-installs temporal v1.5.1) or set TEMPORAL_CLI_PATH',
    );
  fs.mkdirSync(cfg.logsDir, { recursive: true });
  const logFd = fs.openSync(logFile(cfg), 'a');
  const child = spawn(
    binary,
    [
      'server',
      'start-dev',
      '--db-filename',
      path.join(cfg.home, 'temporal.db'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(cfg.temporal.port),
      '--ui-port',
      String(cfg.temporal.uiPort),
      '--namespace',
      cfg.temporal.namespace,
      '--log-level',
      'warn',
    ],
    { detached: true, stdio: ['ignore', logFd, logFd] },
  );
  child.unref();
  fs.closeSync(logFd);
  fs.writeFileSync(pidFile(cfg), String(child.pid));
  const up = await waitFor(async () => (child.exitCode === null ? isHealthy(address, cfg.temporal.namespace) : true), 90_000, 500);
  if (!up || child.exitCode !== null) {
    throw new DependencyError(`The Temporal dev server did not start (see ${logFile(cfg)}):\n${tailFile(logFile(cfg))}`);
  }
  return temporalStatus(cfg);
}

export async function temporalDown(cfg: Config): Promise<void> {
  if (cfg.temporal.address) return;
  const pid = readPidFile(pidFile(cfg));
  if (pid !== undefined) await stopProcess(pid, 'SIGTERM');
  fs.rmSync(pidFile(cfg), { force: true });
}
