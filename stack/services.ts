import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../lib/config';
import { DependencyError } from '../lib/errors';
import { isPortOpen, isProcessAlive, readPidFile, stopProcess, tailFile, waitFor } from './process';

/**
 * Foresight's own long-running commands started in the background by the demo (`foresight worker`, `foresight serve`,
 * `foresight receiver`), like the stack's Postgres and Temporal: a pid file under the home, a log under logs/, and
 * `foresight stack down` stops them. Each is the same CLI a user would run in a terminal.
 */
export type ServiceName = 'worker' | 'api' | 'receiver';

const pidFile = (cfg: Config, name: ServiceName) => path.join(cfg.home, `${name}.pid`);
const logFile = (cfg: Config, name: ServiceName) => path.join(cfg.logsDir, `${name}.log`);
const cliMain = path.resolve(__dirname, '..', 'cli', 'main.js');

export interface ServiceStatus {
  name: ServiceName;
  running: boolean;
  pid?: number;
  log: string;
}

export function serviceStatus(cfg: Config, name: ServiceName): ServiceStatus {
  const pid = readPidFile(pidFile(cfg, name));
  const running = pid !== undefined && isProcessAlive(pid);
  return { name, running, pid: running ? pid : undefined, log: logFile(cfg, name) };
}

/**
 * Starts `foresight <args>` detached unless the service already runs (idempotent), and waits until it listens on
 * `port` (when given) or has stayed up for a moment.
 */
export async function startService(
  cfg: Config,
  name: ServiceName,
  args: string[],
  options: { port?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ServiceStatus> {
  const current = serviceStatus(cfg, name);
  if (current.running) return current;
  if (!fs.existsSync(cliMain)) throw new DependencyError(`${cliMain} is missing: run npm run build`);
  fs.mkdirSync(cfg.logsDir, { recursive: true });
  const logFd = fs.openSync(logFile(cfg, name), 'a');
  const child = spawn(process.execPath, [cliMain, ...args], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, ...options.env },
  });
  child.unref();
  fs.closeSync(logFd);
  fs.writeFileSync(pidFile(cfg, name), String(child.pid), { mode: 0o600 });
  const ready = options.port
    ? () => (child.exitCode === null ? isPortOpen(options.port!) : Promise.resolve(true))
    : async () => child.exitCode !== null || (await waitFor(async () => child.exitCode !== null, 2_000)) || true;
  const up = await waitFor(ready, 60_000, 250);
  if (!up || child.exitCode !== null)
    throw new DependencyError(`foresight ${name} did not start (see ${logFile(cfg, name)}):\n${tailFile(logFile(cfg, name))}`);
  return serviceStatus(cfg, name);
}

export async function stopService(cfg: Config, name: ServiceName): Promise<void> {
  const pid = readPidFile(pidFile(cfg, name));
  if (pid !== undefined) await stopProcess(pid, 'SIGTERM');
  fs.rmSync(pidFile(cfg, name), { force: true });
}

export const SERVICES: readonly ServiceName[] = ['api', 'receiver', 'worker'];
