import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { ValidationError } from '../lib/errors';
import { entitySpec, type EntityName, type EntitySpec } from './entities';
import type { RejectReason } from './fields';
import { LOADERS, type LoadRejection, type Validated } from './load';
import { formatOf, readHeader, readRows, type RawRow } from './read-rows';

export interface IngestOptions {
  entity: EntityName;
  file: string;
  format?: string;
  /** Events after this instant are rejected as future_timestamp (default: now). */
  notAfter?: Date;
  chunkSize?: number;
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
}

export interface IngestSummary {
  entity: EntityName;
  file: string;
  batchId: number;
  /** True when this exact file content had been ingested before (the batch is reused). */
  seenBefore: boolean;
  rowsTotal: number;
  accepted: number;
  rejected: number;
  /** Exact repeats of an earlier row of the same file: skipped, nothing to keep. */
  duplicates: number;
  rejectsByReason: Partial<Record<RejectReason, number>>;
  latestEventAt: string | null;
  elapsedMs: number;
}

async function sha256(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** FNV-1a of the row's text: tells an exact repeat from a conflicting row with the same key, without keeping rows. */
function fingerprint(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function validate<K extends EntityName>(spec: EntitySpec<K>, row: RawRow): { ok: Validated<K> } | { rejection: LoadRejection } {
  if (row.unreadable) return { rejection: { line: row.line, raw: row.raw, reasons: [{ field: '(row)', reason: row.unreadable }] } };
  const parsed = spec.schema.safeParse(row.values);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) => {
      const field = String(issue.path[0] ?? '(row)');
      const value = row.values[field];
      return { field, reason: issue.message as RejectReason, ...(value !== undefined && value !== '' ? { value: String(value) } : {}) };
    });
    return { rejection: { line: row.line, raw: row.raw, reasons } };
  }
  const metadata: Record<string, string> = {};
  for (const key in row.values) {
    const value = row.values[key];
    if (!spec.knownColumns.has(key) && value !== '' && value !== null && value !== undefined) metadata[key] = String(value);
  }
  return { ok: { line: row.line, raw: row.raw, record: parsed.data, metadata } };
}

/**
 * Streams one file into its table: validated row by row, upserted in chunks on natural keys, bad rows kept in
 * ingest_rejects with line and reasons. Never stops on a bad row; throws only when the file itself is unusable.
 */
export async function ingestFile(db: Knex, options: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const { entity, file } = options;
  if (!fs.existsSync(file)) throw new ValidationError(`File not found: ${file}`, 'file');
  const format = formatOf(file, options.format);
  const spec = entitySpec(entity, { notAfter: options.notAfter ?? new Date() });
  const header = await readHeader(file, format);
  const missing = spec.requiredColumns.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new ValidationError(`${path.basename(file)}: missing required column(s) ${missing.join(', ')} for ${entity}`, missing[0], {
      header,
    });
  }

  const fileSha = await sha256(file);
  const batch = await db.raw<{ rows: { batch_id: string; inserted: boolean }[] }>(
    `insert into ingest_batches (entity, file_name, file_sha256) values (?, ?, ?)
     on conflict (entity, file_sha256) do update set
       times_ingested = ingest_batches.times_ingested + 1, last_ingested_at = now(), file_name = excluded.file_name
     returning batch_id, (xmax = 0) as inserted`,
    [entity, path.basename(file), fileSha],
  );
  const batchId = Number(batch.rows[0]!.batch_id);
  const load = LOADERS[entity] as (db: Knex, rows: Validated<typeof entity>[], batchId: number) => Promise<LoadRejection[]>;

  const summary: IngestSummary = {
    entity,
    file,
    batchId,
    seenBefore: !batch.rows[0]!.inserted,
    rowsTotal: 0,
    accepted: 0,
    rejected: 0,
    duplicates: 0,
    rejectsByReason: {},
    latestEventAt: null,
    elapsedMs: 0,
  };
  let latestEvent = -Infinity;
  const seen = new Map<string, number>();
  let chunk: Validated<typeof entity>[] = [];
  let rejections: LoadRejection[] = [];
  const inFlight: Promise<void>[] = [];
  // Customers and identities resolve against what earlier chunks wrote, so they load one chunk at a time; other
  // entities' chunks hold distinct keys and may load two at a time, on two connections.
  const maxInFlight = entity === 'customers' || entity === 'identities' ? 1 : 2;

  const recordRejections = async (list: LoadRejection[]) => {
    if (list.length === 0) return;
    summary.rejected += list.length;
    for (const r of list)
      for (const reason of new Set(r.reasons.map((x) => x.reason))) {
        summary.rejectsByReason[reason] = (summary.rejectsByReason[reason] ?? 0) + 1;
      }
    await db.raw(
      `insert into ingest_rejects (batch_id, file_name, line_no, raw, reasons)
       select ?::bigint, ?, t.line_no, t.raw, t.reasons from unnest(?::int[], ?::text[], ?::jsonb[]) as t(line_no, raw, reasons)
       on conflict (batch_id, line_no) do update set raw = excluded.raw, reasons = excluded.reasons
       where (ingest_rejects.raw, ingest_rejects.reasons) is distinct from (excluded.raw, excluded.reasons)`,
      [batchId, path.basename(file), list.map((r) => r.line), list.map((r) => r.raw), list.map((r) => JSON.stringify(r.reasons))],
    );
  };
  // Chunks are written while the next ones are parsed.
  const flush = async () => {
    const rows = chunk;
    const rejected = rejections;
    chunk = [];
    rejections = [];
    if (inFlight.length >= maxInFlight) await inFlight.shift();
    const loading = (async () => {
      const late = rows.length > 0 ? await load(db, rows, batchId) : [];
      summary.accepted += rows.length - late.length;
      await recordRejections([...rejected, ...late]);
    })();
    // A failure surfaces where the chunk is awaited; this handler only keeps it from counting as unhandled meanwhile.
    loading.catch(() => undefined);
    inFlight.push(loading);
  };

  const bytesTotal = fs.statSync(file).size;
  for await (const row of readRows(file, format, options.onProgress ? (n) => options.onProgress!(n, bytesTotal) : undefined)) {
    summary.rowsTotal += 1;
    const result = validate(spec, row);
    if ('rejection' in result) {
      rejections.push(result.rejection);
    } else {
      const key = spec.key(result.ok.record);
      const print = fingerprint(row.raw);
      const earlier = seen.get(key);
      if (earlier === print) {
        summary.duplicates += 1;
        continue;
      }
      if (earlier !== undefined) {
        rejections.push({
          line: row.line,
          raw: row.raw,
          reasons: [{ field: spec.columns[0]!, reason: 'conflicting_duplicate', value: key.replace('\u0000', '/') }],
        });
        continue;
      }
      seen.set(key, print);
      const at = spec.eventTime(result.ok.record)?.getTime();
      if (at !== undefined && at > latestEvent) latestEvent = at;
      chunk.push(result.ok);
    }
    if (chunk.length >= (options.chunkSize ?? 5000) || rejections.length >= 5000) await flush();
  }
  await flush();
  await Promise.all(inFlight);

  summary.latestEventAt = Number.isFinite(latestEvent) ? new Date(latestEvent).toISOString() : null;
  summary.elapsedMs = Date.now() - started;
  await db('ingest_batches')
    .where({ batch_id: batchId })
    .update({
      rows_total: summary.rowsTotal,
      rows_accepted: summary.accepted,
      rows_rejected: summary.rejected,
      latest_event_at: summary.latestEventAt,
      status: summary.accepted > 0 || summary.rowsTotal === 0 ? 'completed' : 'failed',
    });
  return summary;
}
