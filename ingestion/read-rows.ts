import fs from 'node:fs';
import readline from 'node:readline';
import { parse } from 'csv-parse';
import { ValidationError } from '../lib/errors';

export type FileFormat = 'csv' | 'ndjson';

export interface RawRow {
  /** 1-based line number in the file (for CSV, the line where the record ends). */
  line: number;
  /** The row as it was in the file, for the rejects table. */
  raw: string;
  values: Record<string, unknown>;
  /** Set when the line could not be read as a row at all. */
  unreadable?: 'malformed_json';
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

/** Streams rows of a CSV (header row required) or NDJSON file; `onBytes` reports progress. */
export async function* readRows(file: string, format: FileFormat, onBytes?: (bytesRead: number) => void): AsyncGenerator<RawRow> {
  const stream = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  let bytesRead = 0;
  stream.on('data', (chunk) => {
    bytesRead += chunk.length;
    onBytes?.(bytesRead);
  });
  if (format === 'ndjson') {
    let line = 0;
    for await (const text of readline.createInterface({ input: stream, crlfDelay: Infinity })) {
      line += 1;
      if (text.trim() === '') continue;
      let values: unknown;
      try {
        values = JSON.parse(text);
      } catch {
        values = undefined;
      }
      if (values === null || typeof values !== 'object' || Array.isArray(values)) {
        yield { line, raw: text, values: {}, unreadable: 'malformed_json' };
      } else {
        yield { line, raw: text, values: values as Record<string, unknown> };
      }
    }
    return;
  }
  // Line numbers are counted from the raw text rather than asked of csv-parse (its per-record info objects cost a
  // sixth of the parse); blank lines are kept as records so that every line is counted, and skipped here.
  const parser = stream.pipe(
    parse({
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      bom: true,
      raw: true,
      relax_column_count: true,
    }),
  );
  let line = 1;
  for await (const { record, raw } of parser as AsyncIterable<{ record: Record<string, string>; raw: string }>) {
    const text = raw.replace(/\r?\n$/, '');
    let newlines = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) newlines++;
    line += 1 + newlines;
    if (text.trim() === '') continue;
    yield { line, raw: text, values: record };
  }
}

/** The header of a CSV file, or the keys of the first NDJSON object. */
export async function readHeader(file: string, format: FileFormat): Promise<string[]> {
  for await (const row of readRows(file, format)) {
    if (!row.unreadable) return Object.keys(row.values);
  }
  return [];
}
