import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { importCdnow } from '../../ingestion/import-cdnow';
import { config } from '../../lib/config';
import { migrateLatest, migrateRollbackAll } from '../../lib/db';
import { openDb, stackUp } from '../../stack';
import { ValidationError } from '../../lib/errors';
import { ingestTable } from '../format';
import { cdnowDir } from '../../lib/project-root';

/** Dropping every table is asked for on a terminal; elsewhere (scripts, CI) it needs --yes, never a default. */
async function confirmRollback(what: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new ValidationError('migrate --down drops every Foresight table and its data: pass --yes to confirm', 'yes');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Roll back every migration of ${what}, dropping all Foresight tables and their data? Type "yes": `);
    if (answer.trim() !== 'yes') throw new ValidationError('Not confirmed: nothing was rolled back', 'yes');
  } finally {
    rl.close();
  }
}

export function registerDatabase(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (or roll all of them back with --down)')
    .option('--down', 'roll back every migration (drops Foresight tables and their data); asks first, or pass --yes')
    .option('--yes', 'with --down: do not ask (for scripts)')
    .action(async (opts: { down?: boolean; yes?: boolean }) => {
      const cfg = config();
      if (opts.down && !opts.yes)
        await confirmRollback(cfg.postgres.url ? 'the DATABASE_URL database' : `database "${cfg.postgres.database}"`);
      await stackUp(cfg, ['postgres']);
      const db = openDb(cfg);
      try {
        const names = opts.down ? await migrateRollbackAll(db) : await migrateLatest(db);
        console.log(names.length ? `${opts.down ? 'Rolled back' : 'Applied'}: ${names.join(', ')}` : 'Nothing to do.');
      } finally {
        await db.destroy();
      }
    });

  program
    .command('import-cdnow')
    .description('Import the CDNOW purchase log (the classic CLV benchmark) as customers and orders')
    .option('--file <path>', 'CDNOW_master.txt', path.join(cdnowDir, 'CDNOW_master.txt'))
    .action(async (opts: { file: string }) => {
      const cfg = config();
      await stackUp(cfg, ['postgres']);
      const db = openDb(cfg);
      try {
        await migrateLatest(db);
        const s = await importCdnow(db, path.resolve(opts.file));
        console.log(ingestTable([s.customers, s.orders]));
      } finally {
        await db.destroy();
      }
    });
}
