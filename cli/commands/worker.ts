import type { Command } from 'commander';
import { config } from '../../lib/config';
import { migrateLatest } from '../../lib/db';
import { openDb, stackUp } from '../../stack';
import { runWorker } from '../worker';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run a Temporal worker for Foresight workflows until interrupted')
    .action(async () => {
      const cfg = config();
      await stackUp(cfg);
      const db = openDb(cfg);
      try {
        await migrateLatest(db);
        console.log(`Worker on task queue "${cfg.temporal.taskQueue}" (namespace ${cfg.temporal.namespace}); Ctrl-C to stop.`);
        await runWorker(cfg, db);
      } finally {
        await db.destroy();
      }
    });
}
