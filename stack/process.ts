import fs from 'node:fs';
import net from 'node:net';

/** True when a process with this pid exists (signal 0 probes without delivering anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPidFile(file: string): number | undefined {
  if (!fs.existsSync(file)) return undefined;
  const pid = Number.parseInt(fs.readFileSync(file, 'utf8').split('\n')[0]!.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true once something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it became true. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/** Sends `signal` and waits for the process to exit; escalates to SIGKILL after `timeoutMs`. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, timeoutMs = 30_000): Promise<void> {
  if (!isProcessAlive(pid)) return;
  process.kill(pid, signal);
  if (await waitFor(async () => !isProcessAlive(pid), timeoutMs, 100)) return;
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => !isProcessAlive(pid), 5_000, 100);
}

/** Last lines of a log file, for error messages that say why a service did not start. */
export function tailFile(file: string, lines = 15): string {
  if (!fs.existsSync(file)) return '';
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
