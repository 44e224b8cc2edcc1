import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../lib/config';
import { ValidationError } from '../lib/errors';
import type { RejectReason } from './fields';
import { RecordSplitter, type SplitRecord } from './split-records';

export type FileFormat = 'csv' | 'ndjson';

export interface ReadLimits {
  /** Largest record read; a longer one is rejected as record_too_large and passed over unread. */
  maxRecordBytes: number;
  /** Deepest nesting of an NDJSON line. */
  maxDepth: number;
}

export interface RowProblem {
  field: string;
  reason: RejectReason;
  value?: string;
}

export interface RawRow {
  /** 1-based line number in the file where the record starts. */
  line: number;
  /** The row as it was in the file, for the rejects table (for an oversized record, its beginning). */
  raw: string;
  values: Record<string, unknown>;
  /** Set when the record cannot be a row as it stands: every problem found. */
  problems?: RowProblem[];
}

export function formatOf(file: string, explicit?: string): FileFormat {
  const format = explicit ?? (/\.(nd)?jsonl?$|\.ndjson$/i.test(file) ? 'ndjson' : /\.csv$/i.test(file) ? 'csv' : undefined);
  if (format !== 'csv' && format !== 'ndjson') {
    throw new ValidationError(
      `Cannot tell the format of ${file}: use a .csv, .ndjson or .jsonl file, or pass --format csv|ndjson`,
      'format',
    );
  }
  return format;
}

/** A NUL (which Postgres text and jsonb refuse) or a UTF-16 surrogate without its pair (not encodable as UTF-8). */
// eslint-disable-next-line no-control-regex -- finding the NUL is the point
export const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The header's columns, trimmed and lower-cased; a column named twice refuses the file (which value would count?). */
function headerColumns(fields: string[], file: string): string[] {
  const columns = fields.map((h) => h.trim().toLowerCase());
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) throw new ValidationError(`${path.basename(file)}: column "${c}" appears more than once in the header`, c);
    if (UNSTORABLE.test(c)) throw new ValidationError(`${path.basename(file)}: a header column contains a NUL or unpaired surrogate`, c);
    seen.add(c);
  }
  return columns;
}

/**
 * The fields of one CSV record (RFC 4180), or undefined when its quoting is malformed: a quote inside an unquoted
 * field, or text after a closing quote. Records without quotes, nearly all of them, are a plain split.
 */
export function splitCsv(text: string): string[] | undefined {
  if (text.indexOf('"') === -1) return text.split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 34) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1) return undefined;
        if (text.charCodeAt(q + 1) === 34) {
          value += text.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        value += text.slice(from, q);
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text.charCodeAt(i) !== 44) return undefined;
      i += 1;
    } else {
      const comma = text.indexOf(',', i);
      const value = text.slice(i, comma === -1 ? text.length : comma);
      if (value.indexOf('"') !== -1) return undefined;
      fields.push(value);
      if (comma === -1) return fields;
      i = comma + 1;
    }
  }
}

/** True when the JSON text opens more than `max` objects/arrays inside one another (strings skipped). */
function nestedDeeperThan(text: string, max: number): boolean {
  // Flat lines, nearly all of them, open one object and no array.
  if (text.indexOf('{', 1) === -1 && text.indexOf('[') === -1) return max < 1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** The top-level keys of a parsed NDJSON object whose key or value (at any depth) holds unstorable text. */
function unstorableFields(values: Record<string, unknown>): string[] {
  const bad = (v: unknown): boolean => {
    if (typeof v === 'string') return UNSTORABLE.test(v);
    if (v === null || typeof v !== 'object') return false;
    if (Array.isArray(v)) return v.some(bad);
    return Object.entries(v).some(([k, x]) => UNSTORABLE.test(k) || bad(x));
  };
  return Object.keys(values).filter((k) => UNSTORABLE.test(k) || bad(values[k]));
}

/** `target[key] = value`, also for the key `__proto__` (which an assignment would take as the object's prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const printable = (field: string) => field.replace(UNSTORABLE, '?');

/** Records as text: checked as UTF-8 (a bad record is kept, its bad bytes shown as U+FFFD, and marked). */
function decode(record: SplitRecord, first: boolean): { line: number; text: string; problem?: RejectReason; size?: number } {
  if (record.kind === 'too_large') {
    return { line: record.line, text: record.prefix.toString('utf8'), problem: 'record_too_large', size: record.bytes };
  }
  let text = record.bytes.toString('utf8');
  if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
  if (record.kind === 'unterminated') return { line: record.line, text, problem: 'unterminated_quote' };
  // A U+FFFD in the text is either in the file or stands for bytes that are not UTF-8: only then is the record checked.
  if (text.indexOf('\ufffd') !== -1 && !isUtf8(record.bytes)) return { line: record.line, text, problem: 'invalid_utf8' };
  return { line: record.line, text };
}

async function* records(file: string, format: FileFormat, limits: ReadLimits, onBytes?: (bytesRead: number) => void) {
  const splitter = new RecordSplitter(format === 'csv', limits.maxRecordBytes);
  let bytesRead = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    bytesRead += chunk.length;
    onBytes?.(bytesRead);
    yield splitter.push(chunk);
  }
  yield splitter.end();
}

const whole = (problem: RejectReason, value?: string): RowProblem[] => [{ field: '(row)', reason: problem, ...(value ? { value } : {}) }];

/** Turns records into rows; for CSV, the first non-blank record is the header. */
class RowMaker {
  private header: string[] | undefined;
  private first = true;

  constructor(
    private readonly file: string,
    private readonly format: FileFormat,
    private readonly limits: ReadLimits,
  ) {}

  /** The row of a record; undefined for a blank line or the header. */
  row(record: SplitRecord): RawRow | undefined {
    const { line, text, problem, size } = decode(record, this.first);
    this.first = false;
    if (problem) {
      if (this.format === 'csv' && !this.header) this.refuseHeader(problem);
      return { line, raw: text, values: {}, problems: whole(problem, size ? `${size} bytes` : undefined) };
    }
    if (text.trim() === '') return undefined;
    return this.format === 'ndjson' ? this.ndjsonRow(line, text) : this.csvRow(line, text);
  }

  /** The CSV header's columns once read. */
  columns(): string[] | undefined {
    return this.header;
  }

  private refuseHeader(problem: string): never {
    throw new ValidationError(`${path.basename(this.file)}: the header row is unreadable (${problem})`, 'header');
  }

  private ndjsonRow(line: number, text: string): RawRow {
    if (nestedDeeperThan(text, this.limits.maxDepth)) {
      return { line, raw: text, values: {}, problems: whole('too_deeply_nested', `more than ${this.limits.maxDepth} levels`) };
    }
    let values: unknown;
    try {
      values = JSON.parse(text);
    } catch {
      values = undefined;
    }
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      return { line, raw: text, values: {}, problems: whole('malformed_json') };
    }
    const row = values as Record<string, unknown>;
    // Escapes are the only way a NUL or a lone surrogate gets into valid JSON read from valid UTF-8.
    const bad = text.indexOf('\\u') === -1 ? [] : unstorableFields(row);
    return bad.length === 0 ? { line, raw: text, values: row } : { line, raw: text, values: row, problems: bad.map(unstorable) };
  }

  private csvRow(line: number, text: string): RawRow | undefined {
    const fields = splitCsv(text);
    if (!this.header) {
      if (!fields) this.refuseHeader('malformed quoting');
      this.header = headerColumns(fields, this.file);
      return undefined;
    }
    const header = this.header;
    if (!fields) return { line, raw: text, values: {}, problems: whole('malformed_csv') };
    if (fields.length > header.length) {
      return { line, raw: text, values: {}, problems: whole('extra_fields', `${fields.length} fields, the header has ${header.length}`) };
    }
    const values: Record<string, string> = {};
    for (let i = 0; i < fields.length; i++) setOwn(values, header[i]!, fields[i]!);
    if (text.indexOf('\u0000') === -1) return { line, raw: text, values };
    return { line, raw: text, values, problems: header.filter((c) => values[c]?.includes('\u0000')).map(unstorable) };
  }
}

/**
 * Streams the rows of a CSV (header row required) or NDJSON file; `onBytes` reports progress. Whatever a record
 * holds, it becomes a row, possibly with problems; only an unusable header stops the file.
 */
export async function* readRows(
  file: string,
  format: FileFormat,
  limits: ReadLimits = config().ingest,
  onBytes?: (bytesRead: number) => void,
): AsyncGenerator<RawRow> {
  const maker = new RowMaker(file, format, limits);
  for await (const batch of records(file, format, limits, onBytes)) {
    for (const record of batch) {
      const row = maker.row(record);
      if (row) yield row;
    }
  }
}

const unstorable = (field: string): RowProblem => ({ field: printable(field), reason: 'invalid_character' });

/**
 * The columns of a CSV header, or the keys of the first NDJSON object (undefined when there is none: an empty
 * NDJSON file has no columns to check). A CSV file without a header row is refused.
 */
export async function readHeader(file: string, format: FileFormat, limits: ReadLimits = config().ingest): Promise<string[] | undefined> {
  const maker = new RowMaker(file, format, limits);
  for await (const batch of records(file, format, limits)) {
    for (const record of batch) {
      const row = maker.row(record);
      if (format === 'csv' && maker.columns()) return maker.columns();
      if (row && !row.problems) return Object.keys(row.values);
    }
  }
  if (format === 'csv') throw new ValidationError(`${path.basename(file)}: the file is empty (a CSV file needs a header row)`, 'header');
  return undefined;
}
