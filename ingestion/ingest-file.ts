import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { config } from '../lib/config';
import { ValidationError } from '../lib/errors';
import { entitySpec, type EntityName, type EntitySpec } from './entities';
import type { RejectReason } from './fields';
import { LOADERS, type LoadContext, type LoadRejection, type LoadResult, type Validated } from './load';
import { formatOf, readHeader, readRows, setOwn, UNSTORABLE, type RawRow, type ReadLimits, type RowProblem } from './read-rows';
import { KeyCounts, SeenKeys } from './seen-keys';

export interface IngestOptions {
  entity: EntityName;
  file: string;
  format?: string;
  /** Events after this instant are rejected as future_timestamp (default: the export time, or now when that is earlier). */
  notAfter?: Date;
  /** When the source exported the file: the version of rows without `updated_at` (default: the file's mtime). */
  exportedAt?: Date;
  /** Apply every row even where the stored row is newer (the ordering rule is set aside). */
  force?: boolean;
  /** Per-record limits (default: the configuration's). */
  limits?: ReadLimits;
  chunkSize?: number;
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
}

export interface IngestSummary {
  entity: EntityName;
  file: string;
  batchId: number;
  /** True when this exact file content had been ingested before (the batch is reused). */
  seenBefore: boolean;
  /** The batch's status before this run when it was not completed (an interrupted or failed earlier run). */
  resumedFrom?: string;
  rowsTotal: number;
  /** Valid rows that are now stored as the file has them (written, or already so). */
  accepted: number;
  rejected: number;
  /** Exact repeats of an earlier row of the same file: skipped, nothing to keep. */
  duplicates: number;
  /** Valid rows not applied because the stored row is newer (the ordering rule; not an error). */
  stale: number;
  exportedAt: string;
  rejectsByReason: Partial<Record<RejectReason, number>>;
  latestEventAt: string | null;
  elapsedMs: number;
}

async function sha256(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');
/** Text Postgres can store: a NUL or unpaired surrogate is written as its escape, `\u0000`. */
function storable(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}

function validate<K extends EntityName>(spec: EntitySpec<K>, row: RawRow): { ok: Validated<K> } | { rejection: LoadRejection } {
  if (row.problems) return { rejection: { line: row.line, raw: row.raw, reasons: row.problems } };
  // Unknown columns are kept as metadata; an NDJSON object or array is kept as JSON there, and refused in a known column.
  const metadata: Record<string, unknown> = {};
  let nested: RowProblem[] | undefined;
  for (const key in row.values) {
    const value = row.values[key];
    if (spec.knownColumns.has(key)) {
      if (typeof value === 'object' && value !== null) (nested ??= []).push({ field: key, reason: 'nested_value' });
    } else if (value !== '' && value !== null && value !== undefined) {
      setOwn(metadata, key, typeof value === 'object' ? value : String(value));
    }
  }
  if (nested) return { rejection: { line: row.line, raw: row.raw, reasons: nested } };
  let values = row.values;
  for (const [alias, column] of spec.aliases) {
    if (values[alias] !== undefined && values[column] === undefined) values = { ...values, [column]: values[alias] };
  }
  const parsed = spec.schema.safeParse(values);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) => {
      const field = String(issue.path[0] ?? '(row)');
      const value = values[field];
      return { field, reason: issue.message as RejectReason, ...(value !== undefined && value !== '' ? { value: String(value) } : {}) };
    });
    return { rejection: { line: row.line, raw: row.raw, reasons } };
  }
  return { ok: { line: row.line, raw: row.raw, record: parsed.data, metadata } };
}

/**
 * Streams one file into its table: validated row by row, upserted in chunks on natural keys under the ordering
 * rule, bad rows kept in ingest_rejects with line and reasons. Never stops on a bad row; throws only when the file
 * itself is unusable or the database fails. The batch is `incomplete` (with its progress so far) until the last
 * chunk is written, then `completed`; `failed` when a chunk fails. Running the same file again converges.
 */
export async function ingestFile(db: Knex, options: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const { entity, file } = options;
  if (!fs.existsSync(file)) throw new ValidationError(`File not found: ${file}`, 'file');
  const format = formatOf(file, options.format);
  const limits = options.limits ?? config().ingest;
  const exportedAt = options.exportedAt ?? fs.statSync(file).mtime;
  // No event can be later than the export that holds it (nor than now): the generator's future_timestamp dirt dated
  // between an export in the past and today was accepted while the cut-off was only "now".
  const spec = entitySpec(entity, { notAfter: options.notAfter ?? new Date(Math.min(Date.now(), exportedAt.getTime())) });
  const header = await readHeader(file, format, limits);
  const missing = header ? spec.requiredColumns.filter((c) => !header.includes(c)) : [];
  if (missing.length > 0) {
    throw new ValidationError(`${path.basename(file)}: missing required column(s) ${missing.join(', ')} for ${entity}`, missing[0], {
      header,
    });
  }

  const fileSha = await sha256(file);
  // The same content is the same batch, with the export time first recorded for it.
  const batch = await db.raw<{ rows: { batch_id: string; inserted: boolean; exported_at: Date; previous_status: string | null }[] }>(
    `with previous as (select status from ingest_batches where entity = ? and file_sha256 = ?)
     insert into ingest_batches (entity, file_name, file_sha256, exported_at, status) values (?, ?, ?, ?, 'incomplete')
     on conflict (entity, file_sha256) do update set
       times_ingested = ingest_batches.times_ingested + 1, last_ingested_at = now(), file_name = excluded.file_name,
       exported_at = coalesce(ingest_batches.exported_at, excluded.exported_at), status = 'incomplete'
     returning batch_id, (xmax = 0) as inserted, exported_at, (select status from previous) as previous_status`,
    [entity, fileSha, entity, path.basename(file), fileSha, exportedAt.toISOString()],
  );
  const { batch_id, inserted, previous_status } = batch.rows[0]!;
  const batchId = Number(batch_id);
  const ctx: LoadContext = { batchId, exportedAt: new Date(batch.rows[0]!.exported_at).toISOString(), force: options.force ?? false };
  const load = LOADERS[entity] as (db: Knex, rows: Validated<typeof entity>[], ctx: LoadContext) => Promise<LoadResult>;

  const summary: IngestSummary = {
    entity,
    file,
    batchId,
    seenBefore: !inserted,
    ...(previous_status && previous_status !== 'completed' ? { resumedFrom: previous_status } : {}),
    rowsTotal: 0,
    accepted: 0,
    rejected: 0,
    duplicates: 0,
    stale: 0,
    exportedAt: ctx.exportedAt,
    rejectsByReason: {},
    latestEventAt: null,
    elapsedMs: 0,
  };
  let latestEvent = -Infinity;
  const seen = new SeenKeys();
  // Positions count per parent in file order, so the same file always numbers its rows the same way.
  const positions = spec.position ? new KeyCounts() : null;
  let chunk: Validated<typeof entity>[] = [];
  let rejections: LoadRejection[] = [];
  const inFlight: Promise<void>[] = [];
  // Customers and identities resolve against what earlier chunks wrote, so they load one chunk at a time; other
  // entities' chunks hold distinct keys and may load two at a time, on two connections.
  const maxInFlight = entity === 'customers' || entity === 'identities' ? 1 : 2;

  const saveCounts = (status: string) =>
    db('ingest_batches')
      .where({ batch_id: batchId })
      .update({
        rows_total: summary.rowsTotal,
        rows_accepted: summary.accepted,
        rows_rejected: summary.rejected,
        rows_stale: summary.stale,
        latest_event_at: Number.isFinite(latestEvent) ? new Date(latestEvent).toISOString() : null,
        status,
      });
  const recordRejections = async (list: LoadRejection[]) => {
    if (list.length === 0) return;
    summary.rejected += list.length;
    for (const r of list)
      for (const reason of new Set(r.reasons.map((x) => x.reason))) {
        summary.rejectsByReason[reason] = (summary.rejectsByReason[reason] ?? 0) + 1;
      }
    const reasons = list.map((r) => JSON.stringify(r.reasons.map((x) => (x.value === undefined ? x : { ...x, value: storable(x.value) }))));
    await db.raw(
      `insert into ingest_rejects (batch_id, file_name, line_no, raw, reasons)
       select ?::bigint, ?, t.line_no, t.raw, t.reasons from unnest(?::int[], ?::text[], ?::jsonb[]) as t(line_no, raw, reasons)
       on conflict (batch_id, line_no) do update set raw = excluded.raw, reasons = excluded.reasons
       where (ingest_rejects.raw, ingest_rejects.reasons) is distinct from (excluded.raw, excluded.reasons)`,
      [batchId, path.basename(file), list.map((r) => r.line), list.map((r) => storable(r.raw)), reasons],
    );
  };
  // Chunks are written while the next ones are parsed; each one's progress is saved once it is written.
  const flush = async () => {
    const rows = chunk;
    const rejected = rejections;
    chunk = [];
    rejections = [];
    if (inFlight.length >= maxInFlight) await inFlight.shift();
    const loading = (async () => {
      const result = rows.length > 0 ? await load(db, rows, ctx) : { rejections: [], stale: 0 };
      summary.accepted += rows.length - result.rejections.length - result.stale;
      summary.stale += result.stale;
      await recordRejections([...rejected, ...result.rejections]);
      await saveCounts('incomplete');
    })();
    // A failure surfaces where the chunk is awaited; this handler only keeps it from counting as unhandled meanwhile.
    loading.catch(() => undefined);
    inFlight.push(loading);
  };

  try {
    const bytesTotal = fs.statSync(file).size;
    for await (const row of readRows(file, format, limits, options.onProgress ? (n) => options.onProgress!(n, bytesTotal) : undefined)) {
      summary.rowsTotal += 1;
      const result = validate(spec, row);
      if ('rejection' in result) {
        rejections.push(result.rejection);
      } else {
        if (spec.position) spec.position.number(result.ok.record, positions!.next(spec.position.parent(result.ok.record)));
        const key = spec.key(result.ok.record);
        const sighting = seen.see(key, row.raw);
        if (sighting === 'repeat') {
          summary.duplicates += 1;
          continue;
        }
        if (sighting === 'conflict') {
          rejections.push({
            line: row.line,
            raw: row.raw,
            reasons: [{ field: spec.columns[0]!, reason: 'conflicting_duplicate', value: key.replace('\u0000', '/') }],
          });
          continue;
        }
        const at = spec.eventTime(result.ok.record)?.getTime();
        if (at !== undefined && at > latestEvent) latestEvent = at;
        chunk.push(result.ok);
      }
      if (chunk.length >= (options.chunkSize ?? 5000) || rejections.length >= 5000) await flush();
    }
    await flush();
    await Promise.all(inFlight);
  } catch (error) {
    // Chunks still in flight finish (or fail) before the batch is marked, so its counts are what was written.
    await Promise.allSettled(inFlight);
    await saveCounts('failed').catch(() => undefined);
    throw error;
  }

  summary.latestEventAt = Number.isFinite(latestEvent) ? new Date(latestEvent).toISOString() : null;
  summary.elapsedMs = Date.now() - started;
  await saveCounts(summary.accepted + summary.stale > 0 || summary.rowsTotal === 0 ? 'completed' : 'failed');
  return summary;
}
