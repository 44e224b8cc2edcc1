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
