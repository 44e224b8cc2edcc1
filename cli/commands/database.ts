import path from 'node:path';
import type { Command } from 'commander';
import { importCdnow } from '../../ingestion/import-cdnow';
import { config } from '../../lib/config';
import { migrateLatest, migrateRollbackAll } from '../../lib/db';
import { openDb, stackUp } from '../../stack';
import { ingestTable } from '../format';
import { cdnowDir } from '../../lib/project-root';

export function registerDatabase(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (or roll all of them back with --down)')
    .option('--down', 'roll back every migration (drops Foresight tables)')
    .action(async (opts: { down?: boolean }) => {
      const cfg = config();
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
