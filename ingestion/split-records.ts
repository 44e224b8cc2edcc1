/**
 * Cuts a byte stream into records, never holding more than the record size cap of any one record: a record is a
 * line, or for CSV the lines a quoted value spans. Works on bytes, so that a record is checked as UTF-8 before it
 * becomes text, and so that a line of hundreds of megabytes is skipped, not read into memory.
 *
 * CSV quoting (RFC 4180): a quote opens a quoted value only at the start of a field; inside one, `""` is a quote
 * and a newline belongs to the value. A quote elsewhere is left for the field parser to refuse. A quoted value
 * still open at the end of the file or at the size cap is unterminated: its first line is given up as a bad record
 * and reading starts again on the line after it, so one stray quote costs one row, not the rest of the file.
 */
export type SplitRecord =
  | { kind: 'record'; line: number; bytes: Buffer }
  | { kind: 'too_large'; line: number; prefix: Buffer; bytes: number }
  | { kind: 'unterminated'; line: number; bytes: Buffer };

const NEWLINE = 10;
const QUOTE = 34;
const COMMA = 44;
const CR = 13;
/** scanCsv's answers besides a newline's index. */
const END_OF_CHUNK = -1;
const FALSE_QUOTE = -2;
/** How much of an oversized record is kept for the rejects table. */
export const OVERSIZE_PREFIX_BYTES = 1024;

export class RecordSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  /** The physical line the scan is on, and the line the current record started on. */
  private line = 1;
  private startLine = 1;
  private inQuotes = false;
  /** Inside quotes, the last byte was a quote: it closes the value unless the next byte is a quote too. */
  private quotePending = false;
  private atFieldStart = true;
  /** Set while the rest of an oversized line is being passed over. */
  private skipping: { line: number; prefix: Buffer; bytes: number } | undefined;
  private out: SplitRecord[] = [];

  constructor(
    private readonly csv: boolean,
    private readonly maxBytes: number,
  ) {}

  /** Feeds a chunk; returns the records it completed. */
  push(chunk: Buffer): SplitRecord[] {
    this.consume(chunk);
    return this.take();
  }

  /** The end of the input: returns the last records. */
  end(): SplitRecord[] {
    for (;;) {
      if (this.skipping) {
        this.out.push({ kind: 'too_large', ...this.skipping });
        this.skipping = undefined;
      } else if (this.inQuotes && !this.quotePending) {
        const replay = this.giveUpFirstLine(Buffer.alloc(0), 0, true);
        if (replay) {
          this.consume(replay);
          continue;
        }
      } else if (this.size > 0) {
        this.emit();
        this.reset();
      }
      return this.take();
    }
  }

  private take(): SplitRecord[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private consume(first: Buffer): void {
    let chunk = first;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.skipping) {
        const nl = chunk.indexOf(NEWLINE, pos);
        this.skipping.bytes += (nl === -1 ? chunk.length : nl) - pos;
        if (nl === -1) return;
        this.out.push({ kind: 'too_large', ...this.skipping });
        this.skipping = undefined;
        this.line += 1;
        this.reset();
        pos = nl + 1;
        continue;
      }
      const end = this.csv ? this.scanCsv(chunk, pos) : chunk.indexOf(NEWLINE, pos);
      if (end === FALSE_QUOTE) {
        [chunk, pos] = [this.giveUpFirstLine(chunk, pos, false)!, 0];
        continue;
      }
      const stop = end === END_OF_CHUNK ? chunk.length : end;
      if (this.size + stop - pos > this.maxBytes) {
        if (this.inQuotes) {
          const replay = this.giveUpFirstLine(chunk, pos, false);
          if (replay) {
            [chunk, pos] = [replay, 0];
            continue;
          }
        }
        const prefix = Buffer.concat([...this.parts, chunk.subarray(pos, stop)]).subarray(0, OVERSIZE_PREFIX_BYTES);
        this.skipping = { line: this.startLine, prefix: Buffer.from(prefix), bytes: this.size + stop - pos };
        this.parts = [];
        this.size = 0;
        this.inQuotes = this.quotePending = false;
        if (end === END_OF_CHUNK) return;
        pos = end;
        continue;
      }
      if (stop > pos) {
        this.parts.push(chunk.subarray(pos, stop));
        this.size += stop - pos;
      }
      if (end === END_OF_CHUNK) return;
      this.emit();
      this.line += 1;
      this.reset();
      pos = end + 1;
    }
  }

  /**
   * A quoted value that was not one: the record's first line becomes a bad record, and the bytes after that line
   * (those held, then the rest of `chunk` from `pos`) are returned to be read again. When the record is a single
   * line, undefined: at the end of the input it is given up whole, before it the caller treats it as too large.
   */
  private giveUpFirstLine(chunk: Buffer, pos: number, atEnd: boolean): Buffer | undefined {
    const held = Buffer.concat([...this.parts, chunk.subarray(pos)]);
    const nl = held.indexOf(NEWLINE);
    if (nl === -1) {
      if (atEnd) {
        this.out.push({ kind: 'unterminated', line: this.startLine, bytes: held });
        this.parts = [];
        this.size = 0;
        this.inQuotes = false;
      }
      return undefined;
    }
    this.out.push({ kind: 'unterminated', line: this.startLine, bytes: held.subarray(0, nl) });
    this.line = this.startLine + 1;
    this.reset();
    return held.subarray(nl + 1);
  }

  /**
   * Advances over a CSV record from `pos`: the index of the newline that ends it, END_OF_CHUNK, or FALSE_QUOTE when
   * a quoted value spanning lines closes before text (the scan state is then stale: the caller replays).
   */
  private scanCsv(chunk: Buffer, pos: number): number {
    for (let i = pos; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.quotePending) {
        this.quotePending = false;
        if (b === QUOTE) continue;
        this.inQuotes = false;
        if (b !== COMMA && b !== NEWLINE && b !== CR && this.line > this.startLine) return FALSE_QUOTE;
      }
      if (this.inQuotes) {
        if (b === QUOTE) this.quotePending = true;
        else if (b === NEWLINE) this.line += 1;
        continue;
      }
      if (b === NEWLINE) return i;
      if (b === QUOTE && this.atFieldStart) this.inQuotes = true;
      this.atFieldStart = b === COMMA;
    }
    return END_OF_CHUNK;
  }

  private emit(): void {
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.out.push({ kind: 'record', line: this.startLine, bytes });
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
    this.inQuotes = false;
    this.quotePending = false;
    this.atFieldStart = true;
    this.startLine = this.line;
  }
}
