import type { Command } from 'commander';
import { config } from '../../lib/config';
import { stackDown, stackStatus, stackUp, type StackStatus } from '../../stack';

export function describeStack(s: StackStatus): string {
  const pg = s.postgres;
  const tp = s.temporal;
  return [
    `PostgreSQL  ${pg.running ? 'up  ' : 'down'}  ${pg.mode}  ${pg.url}${pg.pid ? `  pid ${pg.pid}` : ''}${pg.dataDir ? `  data ${pg.dataDir}` : ''}`,
    `Temporal    ${tp.running ? 'up  ' : 'down'}  ${tp.mode}  ${tp.address}${tp.pid ? `  pid ${tp.pid}` : ''}${tp.uiUrl && tp.running ? `  UI ${tp.uiUrl}` : ''}`,
    `libxgboost  ${s.xgboost.found ? 'ok  ' : 'MISSING'}  ${s.xgboost.path}${s.xgboost.detail ? `  (${s.xgboost.detail})` : ''}`,
  ].join('\n');
}

export function registerStack(program: Command): void {
  const stack = program.command('stack').description('Manage the local stack: embedded PostgreSQL and the Temporal dev server');
  stack
    .command('up')
    .description('Start whatever is not running (idempotent); health-checked')
    .action(async () => {
      console.log(describeStack(await stackUp(config())));
      console.log(`Logs: ${config().logsDir}`);
    });
  stack
    .command('down')
    .description('Stop the embedded PostgreSQL and the Temporal dev server cleanly')
    .action(async () => {
      await stackDown(config());
      console.log(describeStack(await stackStatus(config())));
    });
  stack
    .command('status')
    .description('Show what is running, where, and its health')
    .action(async () => {
      const s = await stackStatus(config());
      console.log(describeStack(s));
      if (!s.postgres.running || !s.temporal.running) process.exitCode = 3;
    });
}
