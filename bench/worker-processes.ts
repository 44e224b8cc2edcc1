import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/project-root';

/**
 * `count` `foresight worker` processes built from dist/ (what `npm run build` makes and users run; under tsx the same
 * code scores markedly slower), with `env` added to this process's environment (FORESIGHT_PG_DATABASE,
 * TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, ...). Resolved once each says it is polling.
 */
export async function workerProcesses(count: number, env: Record<string, string>): Promise<ChildProcess[]> {
  const cli = path.join(projectRoot, 'dist', 'cli', 'main.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, [cli, 'worker'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Ctrl-C to stop') && resolve());
          child.once('exit', (code) => reject(new Error(`a worker process exited with ${code} before it was ready`)));
        }),
    ),
  );
  return children;
}

/** SIGTERM (Temporal's runtime shuts the worker down on it), then waits for each process to exit. */
export async function stopProcesses(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }),
  );
}

/** A running process's peak resident memory (VmHWM) in MiB. */
export function processPeakMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}
