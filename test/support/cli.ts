import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const main = path.resolve(__dirname, '../../dist/cli/main.js');

/** Runs the built CLI (npm run build first) against `databaseUrl`; resolves with its stdout, rejects on a non-zero exit. */
export async function runCli(databaseUrl: string, args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [main, ...args], { env: { ...process.env, DATABASE_URL: databaseUrl } });
  return stdout;
}
