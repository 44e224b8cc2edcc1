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
    .option('--not-after <time>', 'reject events after this time as future_timestamp (default: now)')
    .action(async (entity: string, file: string, opts: { format?: string; notAfter?: string }) => {
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
          onProgress: (done, total) => bar.update(done, total),
        });
        bar.stop();
        console.log(ingestTable([summary]));
        console.log();
        console.log(rejectReasons([summary]));
        console.log();
        console.log(
          `${summary.seenBefore ? 'This exact file was ingested before (batch reused; nothing changed). ' : ''}` +
            `Batch ${summary.batchId}: ${fmtInt(summary.accepted)} accepted, ${fmtInt(summary.rejected)} rejected` +
            `${summary.rejected ? ` (see: select * from ingest_rejects where batch_id = ${summary.batchId})` : ''}; ` +
            `${fmtInt(summary.rowsTotal / Math.max(summary.elapsedMs / 1000, 1e-3))} rows/s.`,
        );
        // Non-zero only when nothing could be loaded: a partly bad file is a success with rejects.
        if (summary.accepted === 0 && summary.rowsTotal > 0) process.exitCode = 2;
      } finally {
        await db.destroy();
      }
    });
}
