/**
 * Streams CSV rows to a file: RFC-4180 quoting, '\n' line endings, UTF-8. Rows are encoded straight into
 * a large buffer that goes to the stream when full: one stream write per row would dominate the run time,
 * and collecting rows in long strings keeps them alive long enough to make garbage collection expensive.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/** Bytes per buffer handed to the stream. */
const BUFFER_BYTES = 1 << 20;
/** UTF-8 needs at most 3 bytes per UTF-16 code unit; a line longer than this gets a buffer of its own. */
const MAX_BYTES_PER_CHAR = 3;

/**
 * Quotes a field if it holds a comma, quote or line break, or starts or ends with a space (which
 * lenient readers would otherwise trim away).
 */
function csvField(value: string): string {
  if (/[",\r\n]|^\s|\s$/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

function csvLine(fields: readonly string[]): string {
  let line = csvField(fields[0]);
  for (let i = 1; i < fields.length; i++) line += ',' + csvField(fields[i]);
  return line + '\n';
}

export class CsvWriter {
  /** Data rows written so far (the header is not counted), i.e. the 1-based number of the last row. */
  rows = 0;
  private buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  private readonly stream: WriteStream;
  private failure: Error | null = null;

  constructor(
    readonly path: string,
    header: readonly string[],
  ) {
    this.stream = createWriteStream(path);
    // Remember the error instead of crashing on an unhandled 'error' event; drain/close rethrow it.
    this.stream.on('error', (error) => (this.failure ??= error));
    this.append(csvLine(header));
  }

  /** Buffers a row; returns its 1-based row number. */
  write(fields: readonly string[]): number {
    this.append(csvLine(fields));
    return ++this.rows;
  }

  private append(line: string): void {
    const worstCase = line.length * MAX_BYTES_PER_CHAR;
    if (this.used + worstCase > this.buffer.length) {
      this.flush();
      if (worstCase > this.buffer.length) this.buffer = Buffer.allocUnsafe(worstCase);
    }
    this.used += this.buffer.write(line, this.used);
  }

  private flush(): void {
    if (this.used === 0) return;
    // The stream keeps the buffer until written, so the next rows go into a fresh one.
    this.stream.write(this.buffer.subarray(0, this.used));
    this.buffer = Buffer.allocUnsafe(BUFFER_BYTES);
    this.used = 0;
  }

  /** Hands buffered rows to the stream and waits while the stream is over its high-water mark. */
  async drain(): Promise<void> {
    this.flush();
    if (this.failure) throw this.failure;
    if (this.stream.writableNeedDrain) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    this.flush();
    if (this.failure) throw this.failure;
    this.stream.end();
    // 'close' comes after the data is written and the descriptor released.
    await once(this.stream, 'close');
    if (this.failure) throw this.failure;
  }

  /** Abandons the file after a failure elsewhere. */
  destroy(): void {
    this.stream.destroy();
  }
}
