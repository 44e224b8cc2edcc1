import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ingestFile } from '../../ingestion/ingest-file';
import type { EntityName } from '../../ingestion/entities';
import { ValidationError } from '../../lib/errors';
import { freshDatabase, type TestDatabase } from '../support/db';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-ingest-'));
function write(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
const NOT_AFTER = new Date('2026-07-01T00:00:00Z');

async function counts(t: TestDatabase): Promise<Record<string, number>> {
  const tables = ['customers', 'customer_identities', 'orders', 'order_items', 'returns', 'sessions', 'ingest_batches', 'ingest_rejects'];
  const out: Record<string, number> = {};
  for (const table of tables) out[table] = Number((await t.db(table).count({ n: '*' }))[0]!.n);
  return out;
}

describe('ingestion', () => {
  let t: TestDatabase;
  const ingest = (entity: EntityName, file: string) => ingestFile(t.db, { entity, file, notAfter: NOT_AFTER });

  before(async () => {
    t = await freshDatabase('ingest');
  });
  after(() => t.db.destroy());

  it('loads a small shop: customers, identities, orders, items, returns, sessions', async () => {
    const customers = write('customers.csv', [
      'customer_id,email,first_name,country,signup_at,acquisition_channel',
      'C1,Ann@Example.com,Ann,DE,2024-01-05T10:00:00Z,ads',
      'C2,bob@example.com,Bob,FR,2024-02-01,organic',
      // Same person as C1 under another id: merged by normalised email.
      'C9, ann@example.COM ,Ann,DE,2024-03-01,referral',
    ]);
    const s1 = await ingest('customers', customers);
    expect(s1).to.include({ accepted: 3, rejected: 0 });
    const c1 = await t.db('customers').where({ customer_id: 'C1' }).first();
    expect(c1.email_normalized).to.equal('ann@example.com');
    expect(c1.metadata).to.deep.equal({ acquisition_channel: 'ads' });
    expect(await t.db('customers').where({ customer_id: 'C9' }).first()).to.equal(undefined);

    const identities = write('identities.csv', [
      'source,external_id,email,customer_id',
      'pos,P-100,,C2',
      'web,W-7,ANN@example.com,',
      'app,A-1,new@example.com,',
    ]);
    expect(await ingest('identities', identities)).to.include({ accepted: 3, rejected: 0 });
    const web = await t.db('customer_identities').where({ source: 'web', external_id: 'W-7' }).first();
    expect(web).to.include({ customer_id: 'C1', resolved_by: 'email' });

    const orders = write('orders.csv', [
      'order_id,customer_id,ordered_at,amount,currency,discount_amount,channel,status,coupon',
      'O1,C1,2025-01-10T12:00:00+01:00,100.50,EUR,10.00,web,completed,WELCOME',
      'O2,C9,2025-02-10T12:00:00Z,20.00,EUR,0,web,completed,',
      'O3,P-100,2025-03-01T08:00:00Z,35.10,EUR,,pos,completed,',
      'O4,C404,2025-03-02T08:00:00Z,5.00,EUR,0,web,cancelled,',
    ]);
    const so = await ingest('orders', orders);
    expect(so).to.include({ accepted: 4, rejected: 0, latestEventAt: '2025-03-02T08:00:00.000Z' });
    const byOrder = Object.fromEntries(
      (await t.db('orders').select('order_id', 'customer_id', 'amount', 'metadata')).map((o) => [o.order_id, o]),
    );
    expect(byOrder.O1).to.deep.include({ customer_id: 'C1', amount: '100.50', metadata: { coupon: 'WELCOME' } });
    expect(byOrder.O2!.customer_id, 'merged id resolves to the first customer').to.equal('C1');
    expect(byOrder.O3!.customer_id, 'source id resolves through identities').to.equal('C2');
    expect(await t.db('customers').where({ customer_id: 'C404' }).first()).to.include({ is_stub: true });

    const items = write('order_items.csv', [
      'order_id,sku,category,quantity,unit_price',
      'O1,SKU-1,music,2,55.25',
      'O2,SKU-2,books,1,20.00',
    ]);
    expect(await ingest('order_items', items)).to.include({ accepted: 2 });
    const returns = write('returns.csv', ['return_id,order_id,customer_id,returned_at,amount', 'R1,O1,,2025-01-20T00:00:00Z,55.25']);
    expect(await ingest('returns', returns)).to.include({ accepted: 1 });
    expect(await t.db('returns').where({ return_id: 'R1' }).first()).to.include({ customer_id: 'C1', amount: '55.25' });
    const sessions = write('sessions.ndjson', [
      JSON.stringify({
        session_id: 'S1',
        customer_id: 'C1',
        started_at: '2025-01-10T11:50:00Z',
        duration_s: 300,
        page_views: 7,
        device: 'mobile',
      }),
      JSON.stringify({ session_id: 'S2', customer_id: 'W-7', started_at: '2025-01-11T11:50:00Z', duration_s: 30, page_views: 1 }),
    ]);
    expect(await ingest('sessions', sessions)).to.include({ accepted: 2 });
    expect((await t.db('sessions').where({ session_id: 'S2' }).first()).customer_id).to.equal('C1');
  });

  it('re-ingesting the same files changes nothing', async () => {
    const before = await counts(t);
    for (const [entity, name] of [
      ['customers', 'customers.csv'],
      ['identities', 'identities.csv'],
      ['orders', 'orders.csv'],
      ['order_items', 'order_items.csv'],
      ['returns', 'returns.csv'],
      ['sessions', 'sessions.ndjson'],
    ] as const) {
      const s = await ingest(entity, path.join(dir, name));
      expect(s.seenBefore, name).to.equal(true);
    }
    expect(await counts(t)).to.deep.equal(before);
    const batches = await t.db('ingest_batches').select('times_ingested');
    expect(batches.every((b) => b.times_ingested === 2)).to.equal(true);
  });

  it('rejects each kind of bad row with its line and reason, and loads the rest', async () => {
    const file = write('orders-bad.csv', [
      'order_id,customer_id,ordered_at,amount,currency,discount_amount,channel,status',
      'B1,C1,2025-04-01T00:00:00Z,12.30,EUR,0,web,completed', // line 2: good
      'B2,C1,2025-04-01T00:00:00Z,"12,3O",EUR,0,web,completed', // line 3: malformed_amount
      'B3,C1,,10.00,EUR,0,web,completed', // line 4: missing ordered_at
      'B4,C1,2031-01-01T00:00:00Z,10.00,EUR,0,web,completed', // line 5: future_timestamp
      'B5,C1,01/04/2025,10.00,EUR,0,web,completed', // line 6: malformed_timestamp
      'B6,C1,2025-04-01T00:00:00Z,-3.00,EUR,0,web,completed', // line 7: negative_amount
      'B7,C1,2025-04-01T00:00:00Z,3.00,EURO,0,web,completed', // line 8: invalid_currency
      'B8,C1,2025-04-01T00:00:00Z,3.00,EUR,0,web,lost', // line 9: invalid_value
      ',C1,2025-04-01T00:00:00Z,3.00,EUR,0,web,completed', // line 10: missing order_id
      'B1,C1,2025-04-01T00:00:00Z,12.30,EUR,0,web,completed', // line 11: exact duplicate, skipped
      'B1,C2,2025-04-01T00:00:00Z,99.00,EUR,0,web,completed', // line 12: conflicting_duplicate
      'B9,C1,1980-01-01T00:00:00Z,3.00,EUR,0,web,completed', // line 13: implausible_timestamp
      'B10,,2025-04-01T00:00:00Z,abc,EUR,0,web,completed', // line 14: two problems
    ]);
    const s = await ingest('orders', file);
    expect(s).to.include({ rowsTotal: 13, accepted: 1, rejected: 11, duplicates: 1 });
    const rejects = await t.db('ingest_rejects').where({ batch_id: s.batchId }).orderBy('line_no');
    const byLine = Object.fromEntries(
      rejects.map((r) => [r.line_no, r.reasons.map((x: { field: string; reason: string }) => `${x.field}:${x.reason}`)]),
    );
    expect(byLine).to.deep.equal({
      3: ['amount:malformed_amount'],
      4: ['ordered_at:missing'],
      5: ['ordered_at:future_timestamp'],
      6: ['ordered_at:malformed_timestamp'],
      7: ['amount:negative_amount'],
      8: ['currency:invalid_currency'],
      9: ['status:invalid_value'],
      10: ['order_id:missing'],
      12: ['order_id:conflicting_duplicate'],
      13: ['ordered_at:implausible_timestamp'],
      14: ['customer_id:missing', 'amount:malformed_amount'],
    });
    expect(rejects.find((r) => r.line_no === 3).raw).to.equal('B2,C1,2025-04-01T00:00:00Z,"12,3O",EUR,0,web,completed');
  });

  it('rejects rows that reference unknown orders, malformed JSON lines and conflicting identities', async () => {
    const items = write('items-bad.csv', [
      'order_id,sku,category,quantity,unit_price',
      'O1,SKU-9,music,1,1.00',
      'NOPE,SKU-1,music,1,1.00',
      'O1,SKU-8,music,1.5,1.00',
    ]);
    const si = await ingest('order_items', items);
    expect(si).to.include({ accepted: 1, rejected: 2 });
    expect(si.rejectsByReason).to.deep.equal({ unknown_order: 1, malformed_integer: 1 });

    const sessions = write('sessions-bad.ndjson', [
      '{"session_id":"S9","customer_id":"C1","started_at":"2025-01-01T00:00:00Z","duration_s":1,"page_views":1}',
      '{not json',
      '[1,2]',
    ]);
    const ss = await ingest('sessions', sessions);
    expect(ss).to.include({ accepted: 1, rejected: 2 });
    expect(ss.rejectsByReason).to.deep.equal({ malformed_json: 2 });

    const ids = write('identities-conflict.csv', ['source,external_id,email,customer_id', 'pos,P-100,,C1']);
    const sc = await ingest('identities', ids);
    expect(sc.rejectsByReason).to.deep.equal({ identity_conflict: 1 });
    expect((await t.db('customer_identities').where({ source: 'pos', external_id: 'P-100' }).first()).customer_id).to.equal('C2');
  });

  it('reports the file line of a bad row after blank lines and quoted multi-line values', async () => {
    const file = write('customers-lines.csv', [
      'customer_id,email,first_name,note',
      'L1,l1@x.io,Ann,"first line',
      'second line"',
      '',
      'L2,not-an-email,Bob,plain',
    ]);
    const s = await ingest('customers', file);
    expect(s).to.include({ accepted: 1, rejected: 1 });
    const rejects = await t.db('ingest_rejects').where({ batch_id: s.batchId }).select('line_no', 'raw');
    expect(rejects).to.deep.equal([{ line_no: 5, raw: 'L2,not-an-email,Bob,plain' }]);
    expect((await t.db('customers').where({ customer_id: 'L1' }).first()).metadata).to.deep.equal({ note: 'first line\nsecond line' });
  });

  it('refuses a file without the required columns, naming them', async () => {
    const file = write('orders-no-amount.csv', ['order_id,customer_id,ordered_at', 'X,C1,2025-01-01']);
    try {
      await ingest('orders', file);
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).message).to.contain('amount');
      expect((err as ValidationError).field).to.equal('amount');
    }
  });

  it('loads 99% of a file with 1% malformed rows and lists every bad row', async () => {
    const lines = ['order_id,customer_id,ordered_at,amount,currency,discount_amount,channel,status'];
    const bad = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const malformed = i % 100 === 37;
      if (malformed) bad.add(i + 2);
      lines.push(`M${i},C${i % 50},2025-05-01T00:00:00Z,${malformed ? 'x1.0' : (i % 997) + 0.99},EUR,0,web,completed`);
    }
    const s = await ingest('orders', write('orders-1pct.csv', lines));
    expect(s).to.include({ accepted: 9_900, rejected: 100 });
    const lineNos = await t.db('ingest_rejects').where({ batch_id: s.batchId }).pluck('line_no');
    expect(new Set(lineNos)).to.deep.equal(bad);
  });

  it('without --not-after, rejects events after the export time of the file, not only those after now', async () => {
    const day = 86_400_000;
    const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
    const file = write('orders-exported-last-month.csv', [
      'order_id,customer_id,ordered_at,amount,currency,discount_amount,channel,status',
      `X1,C1,${iso(40 * day)},10.00,EUR,0,web,completed`, // line 2: before the export
      `X2,C1,${iso(10 * day)},10.00,EUR,0,web,completed`, // line 3: after the export, before now
    ]);
    const s = await ingestFile(t.db, { entity: 'orders', file, exportedAt: new Date(Date.now() - 30 * day) });
    expect(s).to.include({ accepted: 1, rejected: 1 });
    const rejects = await t.db('ingest_rejects').where({ batch_id: s.batchId }).select('line_no', 'reasons');
    expect(rejects.map((r) => [r.line_no, r.reasons[0].reason])).to.deep.equal([[3, 'future_timestamp']]);
  });
});
