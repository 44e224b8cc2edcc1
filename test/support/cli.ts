import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../lib/project-root';

/** Runs the built `foresight` binary (dist/cli/main.js, as users run it) against a test database. */
export function runCli(args: string[], databaseUrl: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(projectRoot, 'dist', 'cli', 'main.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: databaseUrl, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

/** The binary's stdout; a non-zero exit throws an error carrying its `stderr`. */
export function cliStdout(args: string[], databaseUrl: string): string {
  const run = runCli(args, databaseUrl);
  if (run.status !== 0)
    throw Object.assign(new Error(`foresight ${args.join(' ')} exited ${run.status}: ${run.stderr}`), { stderr: run.stderr });
  return run.stdout;
}
