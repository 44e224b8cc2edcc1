import path from 'node:path';
import type { Command } from 'commander';
import { ENTITY_NAMES, type EntityName } from '../../ingestion/entities';
import { ingestFile } from '../../ingestion/ingest-file';
import { config } from '../../lib/config';
import { migrateLatest } from '../../lib/db';
import { ValidationError } from '../../lib/errors';
import { openDb, stackUp } from '../../stack';
import { fmtInt, ingestTable, rejectReasons } from '../format';
import { dateOption } from '../options';
import { progress } from '../progress';

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(`Load a CSV or NDJSON file into Foresight (entity: ${ENTITY_NAMES.join(', ')})`)
    .argument('<entity>', ENTITY_NAMES.join(' | '))
    .argument('<file>', 'a .csv (header row) or .ndjson/.jsonl file')
    .option('--format <format>', 'csv or ndjson (default: from the file extension)')
    .option(
      '--not-after <time>',
      'reject events after this time as future_timestamp (default: the export time, or now when that is earlier)',
    )
    .option('--exported-at <time>', "when the source exported the file: the version of rows without updated_at (default: the file's mtime)")
    .option('--force', 'apply every row even where the stored row is newer (an older export overwrites a newer one)')
    .action(async (entity: string, file: string, opts: { format?: string; notAfter?: string; exportedAt?: string; force?: boolean }) => {
      if (!(ENTITY_NAMES as readonly string[]).includes(entity)) {
        throw new ValidationError(`entity must be one of ${ENTITY_NAMES.join(', ')}; got "${entity}"`, 'entity');
      }
      const cfg = config();
      await stackUp(cfg, ['postgres']);
      const db = openDb(cfg);
      try {
        await migrateLatest(db);
        const bar = progress(entity, 1, ' bytes');
        const summary = await ingestFile(db, {
          entity: entity as EntityName,
          file: path.resolve(file),
          format: opts.format,
          notAfter: opts.notAfter ? dateOption(opts.notAfter, '--not-after') : undefined,
          exportedAt: opts.exportedAt ? dateOption(opts.exportedAt, '--exported-at') : undefined,
          force: opts.force ?? false,
          onProgress: (done, total) => bar.update(done, total),
        });
        bar.stop();
        console.log(ingestTable([summary]));
        console.log();
        console.log(rejectReasons([summary]));
        console.log();
        if (summary.rowsTotal === 0) console.log('The file has a header but no rows: nothing to load.');
        console.log(
          `${
            summary.resumedFrom
              ? `This file's earlier run ended ${summary.resumedFrom}; this run finished it. `
              : summary.seenBefore
                ? 'This exact file was ingested before (batch reused; nothing changed). '
                : ''
          }` +
            `Batch ${summary.batchId} (exported ${summary.exportedAt}): ${fmtInt(summary.accepted)} accepted, ` +
            `${fmtInt(summary.stale)} stale (older than what is stored; --force applies them), ${fmtInt(summary.rejected)} rejected` +
            `${summary.rejected ? ` (see: select * from ingest_rejects where batch_id = ${summary.batchId})` : ''}; ` +
            `${fmtInt(summary.rowsTotal / Math.max(summary.elapsedMs / 1000, 1e-3))} rows/s.`,
        );
        // Non-zero only when nothing could be loaded: a partly bad or partly stale file is a success.
        if (summary.accepted + summary.stale === 0 && summary.rowsTotal > 0) process.exitCode = 2;
      } finally {
        await db.destroy();
      }
    });
}
