import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ingestFile } from '../../ingestion/ingest-file';
import type { EntityName } from '../../ingestion/entities';
import { ValidationError } from '../../lib/errors';
import { freshDatabase, type TestDatabase } from '../support/db';

/** "Bad rows never stop a file": each hostile record becomes a reject with its line and reason; the rest loads. */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-hostile-'));
const NOT_AFTER = new Date('2026-07-01T00:00:00Z');
const ORDERS_HEADER = 'order_id,customer_id,ordered_at,amount,currency,discount_amount,channel,status';
const good = (id: string, channel = 'web') => `${id},C1,2025-04-01T00:00:00Z,10.00,EUR,0,${channel},completed`;

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** FNV-1a 32-bit, the in-file duplicate check's former row fingerprint: used to build two rows it cannot tell apart. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

describe('hostile input, row by row', () => {
  let t: TestDatabase;
  const ingest = (entity: EntityName, file: string) => ingestFile(t.db, { entity, file, notAfter: NOT_AFTER });
  const rejectsOf = async (batchId: number) =>
    Object.fromEntries(
      (await t.db('ingest_rejects').where({ batch_id: batchId }).orderBy('line_no')).map((r) => [
        r.line_no,
        r.reasons.map((x: { field: string; reason: string }) => `${x.field}:${x.reason}`),
      ]),
    );

  before(async () => {
    t = await freshDatabase('hostile');
  });
  after(() => t.db.destroy());

  it('CSV: NUL, bad UTF-8, stray and unclosed quotes, extra fields, impossible dates: each a reject, the rest loads', async () => {
    const lines: (string | Buffer)[] = [
      ORDERS_HEADER, // 1
      good('G1'), // 2
      `N1,C1,2025-04-01T00:00:00Z,10.00,EUR,0,w\u0000eb,completed`, // 3: NUL
      good('G2'), // 4
      Buffer.concat([Buffer.from('U1,C1,2025-04-01T00:00:00Z,10.00,EUR,0,w'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('b,completed')]), // 5
      good('G3'), // 6
      `S1,C1,2025-04-01T00:00:00Z,10.00,EUR,0,we"b,completed`, // 7: stray quote in an unquoted field
      good('G4'), // 8
      `X1,C1,2025-04-01T00:00:00Z,10.00,EUR,0,web,completed,surplus`, // 9: a field beyond the header
      good('G5'), // 10
      `D1,C1,2026-02-30,10.00,EUR,0,web,completed`, // 11: February 30th
      `D2,C1,2025-04-31T10:00:00Z,10.00,EUR,0,web,completed`, // 12: April 31st
      `D3,C1,2025-04-01T24:00:00Z,10.00,EUR,0,web,completed`, // 13: hour 24
      good('G6', "=cmd|' /C calc'!A0"), // 14: formula-like text, stored verbatim
      `Q1,C1,2025-04-01T00:00:00Z,10.00,EUR,0,"web,completed`, // 15: a quote never closed
      good('G7'), // 16
      good('G8', '"@SUM(1+1)"'), // 17: quoted formula-like text
      `Q2,C1,2025-04-01T00:00:00Z,10.00,EUR,0,"open`, // 18: unclosed again, closed by the stray quote on 19...
      `T1,C1,2025-04-01T00:00:00Z,10.00,EUR,0,web,com"pleted`, // 19: ...which makes a false quoted value over 2 lines
      good('G9'), // 20
      `Q3,C1,2025-04-01T00:00:00Z,10.00,EUR,0,"web`, // 21: unclosed at the end of the file
    ];
    const file = write('orders-hostile.csv', Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from(l), Buffer.from('\n')]))));
    const s = await ingest('orders', file);
    expect(s).to.include({ accepted: 9, rejected: 11 });
    expect(await rejectsOf(s.batchId)).to.deep.equal({
      3: ['channel:invalid_character'],
      5: ['(row):invalid_utf8'],
      7: ['(row):malformed_csv'],
      9: ['(row):extra_fields'],
      11: ['ordered_at:malformed_timestamp'],
      12: ['ordered_at:malformed_timestamp'],
      13: ['ordered_at:malformed_timestamp'],
      15: ['(row):unterminated_quote'],
      18: ['(row):unterminated_quote'],
      19: ['(row):malformed_csv'],
      21: ['(row):unterminated_quote'],
    });
    const ids = await t.db('orders').where({ batch_id: s.batchId }).orderBy('order_id').pluck('order_id');
    expect(ids).to.deep.equal(['G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'G7', 'G8', 'G9']);
    // Text is data: a formula is kept exactly as sent, never evaluated or altered.
    expect((await t.db('orders').where({ order_id: 'G6' }).first()).channel).to.equal("=cmd|' /C calc'!A0");
    expect((await t.db('orders').where({ order_id: 'G8' }).first()).channel).to.equal('@SUM(1+1)');
    // The NUL is kept visibly in the reject's raw text, escaped so Postgres can store it.
    const nul = await t.db('ingest_rejects').where({ batch_id: s.batchId, line_no: 3 }).first();
    expect(nul.raw).to.equal('N1,C1,2025-04-01T00:00:00Z,10.00,EUR,0,w\\u0000eb,completed');
  });

  it('NDJSON: lone surrogates, NUL escapes, nested values and deep nesting: each a reject, the rest loads', async () => {
    const session = (id: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ session_id: id, customer_id: 'C1', started_at: '2025-01-01T00:00:00Z', duration_s: 5, page_views: 1, ...extra });
    const deep = `{"session_id":"DEEP","customer_id":"C1","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const lines = [
      session('S1'), // 1
      session('SUR', { device: 'ph\ud800one' }), // 2: lone surrogate (JSON.stringify writes it as \ud800)
      session('NUL', { note: 'a\u0000b' }), // 3: NUL escape in a metadata value
      session('OBJ', { device: { model: 'x' } }), // 4: an object in a known column
      session('S2', { utm: { source: 'news', tags: ['a', 'b'] } }), // 5: nested metadata: kept as JSON
      deep, // 6: nested 10,000 deep
      session('S3'), // 7
    ];
    const s = await ingest('sessions', write('sessions-hostile.ndjson', lines.join('\n') + '\n'));
    expect(s).to.include({ accepted: 3, rejected: 4 });
    expect(await rejectsOf(s.batchId)).to.deep.equal({
      2: ['device:invalid_character'],
      3: ['note:invalid_character'],
      4: ['device:nested_value'],
      6: ['(row):too_deeply_nested'],
    });
    expect((await t.db('sessions').where({ session_id: 'S2' }).first()).metadata).to.deep.equal({
      utm: { source: 'news', tags: ['a', 'b'] },
    });
    const sessions = await t.db('sessions').where({ batch_id: s.batchId }).orderBy('session_id').pluck('session_id');
    expect(sessions).to.deep.equal(['S1', 'S2', 'S3']);
  });

  it('refuses a header naming a column twice, naming it; loads a header-only file as zero rows', async () => {
    const dup = write('orders-dup-header.csv', `${ORDERS_HEADER},amount\n${good('H1')},99.00\n`);
    try {
      await ingest('orders', dup);
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).field).to.equal('amount');
      expect((err as ValidationError).message).to.contain('"amount" appears more than once');
    }
    const empty = await ingest('orders', write('orders-header-only.csv', `${ORDERS_HEADER}\n`));
    expect(empty).to.include({ rowsTotal: 0, accepted: 0, rejected: 0 });
    expect((await t.db('ingest_batches').where({ batch_id: empty.batchId }).first()).status).to.equal('completed');
  });

  it('tells apart two rows of one key whose 32-bit fingerprints collide', async () => {
    // Birthday search for two metadata values whose rows have the same FNV-1a: the old check took the second for a repeat.
    const byPrint = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const row = `K1,C1,2025-04-01T00:00:00Z,10.00,EUR,0,web,completed,${i}`;
      const print = fnv1a(row);
      const earlier = byPrint.get(print);
      if (earlier) pair = [earlier, row];
      else byPrint.set(print, row);
    }
    const s = await ingest('orders', write('orders-collision.csv', [`${ORDERS_HEADER},note`, ...pair, ''].join('\n')));
    expect(s).to.include({ accepted: 1, rejected: 1, duplicates: 0 });
    expect(s.rejectsByReason).to.deep.equal({ conflicting_duplicate: 1 });
  });

  it('rejects a 300 MB line without reading it into memory, and loads the lines around it', async function () {
    this.timeout(300_000);
    const file = path.join(dir, 'sessions-huge-line.ndjson');
    const out = fs.openSync(file, 'w');
    const row = (id: string) =>
      `{"session_id":"${id}","customer_id":"C1","started_at":"2025-01-01T00:00:00Z","duration_s":5,"page_views":1}\n`;
    fs.writeSync(out, row('BEFORE'));
    const head = '{"session_id":"HUGE","customer_id":"C1","note":"';
    fs.writeSync(out, head);
    const block = Buffer.alloc(1 << 20, 'x');
    for (let i = 0; i < 300; i++) fs.writeSync(out, block);
    fs.writeSync(out, '"}\n');
    fs.writeSync(out, row('AFTER'));
    fs.closeSync(out);

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    try {
      const s = await ingest('sessions', file);
      expect(s).to.include({ accepted: 2, rejected: 1 });
      expect(await rejectsOf(s.batchId)).to.deep.equal({ 2: ['(row):record_too_large'] });
      const reject = await t.db('ingest_rejects').where({ batch_id: s.batchId }).first();
      expect(reject.raw.length, 'only the beginning of the record is kept').to.be.at.most(1024);
      expect(reject.reasons[0].value).to.equal(`${head.length + 300 * (1 << 20) + 2} bytes`);
    } finally {
      clearInterval(sampler);
      fs.rmSync(file);
    }
    expect((peak - baseline) / 2 ** 20, 'MiB of memory grown while reading').to.be.below(100);
  });
});
