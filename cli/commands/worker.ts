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
      const owner = openDb(cfg);
      try {
        await migrateLatest(owner);
      } finally {
        await owner.destroy();
      }
      // As the worker role: it writes the data, features, models and scores, but not API keys or the audit trail's past.
      const db = openDb(cfg, 'worker');
      try {
        console.log(`Worker on task queue "${cfg.temporal.taskQueue}" (namespace ${cfg.temporal.namespace}); Ctrl-C to stop.`);
        await runWorker(cfg, db);
      } finally {
        await db.destroy();
      }
    });
}
