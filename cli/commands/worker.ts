import { Option, type Command } from 'commander';
import { config } from '../../lib/config';
import { migrateLatest } from '../../lib/db';
import { openDb, stackUp } from '../../stack';
import { scoringTaskQueue } from '../../workflows/scoring';
import { runWorker } from '../worker';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run a Temporal worker for Foresight workflows until interrupted')
    .addOption(
      new Option('--only <queue>', 'poll only the scoring task queue: a process that scores run partitions and nothing else').choices([
        'scoring',
      ]),
    )
    .action(async (opts: { only?: 'scoring' }) => {
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
        const n = cfg.scoring.partitionsPerWorker;
        const scoring = `"${scoringTaskQueue(cfg.temporal.taskQueue)}" (at most ${n} partition${n === 1 ? '' : 's'} at once)`;
        console.log(
          opts.only === 'scoring'
            ? `Scoring worker on task queue ${scoring} (namespace ${cfg.temporal.namespace}); Ctrl-C to stop.`
            : `Worker on task queues "${cfg.temporal.taskQueue}" and ${scoring} (namespace ${cfg.temporal.namespace}); Ctrl-C to stop.`,
        );
        await runWorker(cfg, db, opts);
      } finally {
        await db.destroy();
      }
    });
}
