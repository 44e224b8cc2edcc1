import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { ingestFile } from '../../ingestion/ingest-file';
import type { EntityName } from '../../ingestion/entities';
import { ConflictError } from '../../lib/errors';
import * as orderItemLines from '../../migrations/20261129000080_order_item_lines';
import { freshDatabase, type TestDatabase } from '../support/db';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-order-lines-'));
const NOT_AFTER = new Date('2026-07-01T00:00:00Z');
const ITEMS_HEADER = 'order_id,sku,category,quantity,unit_price';

function write(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** An order's lines as `line:sku:quantity:unit_price`, by line number. */
async function linesOf(db: Knex, orderId: string): Promise<string[]> {
  const rows = await db('order_items').where({ order_id: orderId }).orderBy('line_no');
  return rows.map((r: { line_no: number; sku: string; quantity: number; unit_price: string }) =>
    [r.line_no, r.sku, r.quantity, r.unit_price].join(':'),
  );
}

describe('order lines: one SKU on several lines of an order', () => {
  let t: TestDatabase;
  const ingest = (entity: EntityName, file: string, more: { exportedAt?: Date } = {}) =>
    ingestFile(t.db, { entity, file, notAfter: NOT_AFTER, ...more });

  before(async () => {
    t = await freshDatabase('order_lines');
    await ingest('customers', write('customers.csv', ['customer_id', 'C1']));
    await ingest(
      'orders',
      write('orders.csv', [
        'order_id,customer_id,ordered_at,amount,currency',
        ...['A', 'B', 'N', 'V'].map((id) => `${id},C1,2025-01-10T12:00:00Z,100.00,EUR`),
      ]),
    );
  });
  after(() => t.db.destroy());

  it('loads every line of an invoice that lists a SKU twice, numbered by its position within the order', async () => {
    const file = write('items-repeated.csv', [
      ITEMS_HEADER,
      'A,SKU-1,music,2,10.00',
      'B,SKU-7,books,1,5.00',
      'A,SKU-2,music,1,30.00',
      'A,SKU-1,music,1,9.50', // the same SKU again, at another price
      'A,SKU-1,music,1,9.50', // and once more, the same line: an invoice may list it twice
    ]);
    const s = await ingest('order_items', file);
    expect(s).to.include({ rowsTotal: 5, accepted: 5, rejected: 0, duplicates: 0 });
    expect(await linesOf(t.db, 'A')).to.deep.equal(['1:SKU-1:2:10.00', '2:SKU-2:1:30.00', '3:SKU-1:1:9.50', '4:SKU-1:1:9.50']);
    expect(await linesOf(t.db, 'B')).to.deep.equal(['1:SKU-7:1:5.00']);
  });

  it('changes nothing when the same file is ingested again', async () => {
    const file = path.join(dir, 'items-repeated.csv');
    const before = await t.db('order_items').orderBy(['order_id', 'line_no']);
    const again = await ingest('order_items', file);
    expect(again).to.include({ seenBefore: true, accepted: 5, rejected: 0, stale: 0 });
    expect(await t.db('order_items').orderBy(['order_id', 'line_no'])).to.deep.equal(before);
  });

  it('honours a line number given in the file (line_no, or line_number), and rejects two rows with one number', async () => {
    const given = write('items-numbered.csv', [
      `order_id,line_no,sku,category,quantity,unit_price`,
      'N,20,SKU-1,music,1,10.00',
      'N,10,SKU-1,music,3,10.00',
      'N,20,SKU-9,music,1,10.00', // line 20 again, with other content
    ]);
    const s = await ingest('order_items', given);
    expect(s).to.include({ accepted: 2, rejected: 1 });
    expect(s.rejectsByReason).to.deep.equal({ conflicting_duplicate: 1 });
    expect(await linesOf(t.db, 'N')).to.deep.equal(['10:SKU-1:3:10.00', '20:SKU-1:1:10.00']);

    const alias = write('items-line-number.csv', [`order_id,line_number,sku,category,quantity,unit_price`, 'N,30,SKU-3,music,1,1.00']);
    expect(await ingest('order_items', alias)).to.include({ accepted: 1, rejected: 0 });
    const line = await t.db('order_items').where({ order_id: 'N', line_no: 30 }).first();
    expect(line).to.include({ sku: 'SKU-3' });
    expect(line.metadata, 'line_number is a known column, not metadata').to.deep.equal({});

    const bad = write('items-bad-number.csv', [`order_id,line_no,sku,category,quantity,unit_price`, 'N,0,SKU-3,music,1,1.00']);
    expect((await ingest('order_items', bad)).rejectsByReason).to.deep.equal({ out_of_range: 1 });
  });

  it('keeps the ordering rule per line: a newer export updates a line, an older one is held back as stale', async () => {
    const v1 = write('items-v1.csv', [ITEMS_HEADER, 'V,SKU-1,music,1,10.00', 'V,SKU-1,music,2,10.00']);
    const v2 = write('items-v2.csv', [ITEMS_HEADER, 'V,SKU-1,music,1,10.00', 'V,SKU-1,music,5,10.00']);
    const v0 = write('items-v0.csv', [ITEMS_HEADER, 'V,SKU-1,music,1,10.00', 'V,SKU-1,music,9,10.00']);
    expect(await ingest('order_items', v1, { exportedAt: new Date('2025-06-01T00:00:00Z') })).to.include({ accepted: 2 });
    expect(await ingest('order_items', v2, { exportedAt: new Date('2025-06-02T00:00:00Z') })).to.include({ accepted: 2, stale: 0 });
    expect(await linesOf(t.db, 'V')).to.deep.equal(['1:SKU-1:1:10.00', '2:SKU-1:5:10.00']);
    const older = await ingest('order_items', v0, { exportedAt: new Date('2025-05-01T00:00:00Z') });
    expect(older).to.include({ accepted: 1, stale: 1 });
    expect(await linesOf(t.db, 'V')).to.deep.equal(['1:SKU-1:1:10.00', '2:SKU-1:5:10.00']);
  });
});

describe('migration 20261129000080_order_item_lines', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('order_item_lines_migration');
  });
  after(() => t.db.destroy());

  it('numbers the lines stored under the old key per order in SKU order, and refuses to roll back repeated SKUs', async () => {
    await orderItemLines.down(t.db);
    await t.db('customers').insert({ customer_id: 'C1' });
    await t.db('orders').insert(
      ['M1', 'M2'].map((order_id) => ({
        order_id,
        customer_id: 'C1',
        ordered_at: '2025-01-01T00:00:00Z',
        amount: '1.00',
        currency: 'EUR',
        status: 'completed',
      })),
    );
    const line = (order_id: string, sku: string) => ({ order_id, sku, quantity: 1, unit_price: '1.00' });
    await t.db('order_items').insert([line('M1', 'SKU-C'), line('M1', 'SKU-A'), line('M1', 'SKU-B'), line('M2', 'SKU-Z')]);
    await orderItemLines.up(t.db);
    const rows = await t.db('order_items').orderBy(['order_id', 'line_no']).select('order_id', 'line_no', 'sku');
    expect(rows.map((r: { order_id: string; line_no: number; sku: string }) => `${r.order_id}:${r.line_no}:${r.sku}`)).to.deep.equal([
      'M1:1:SKU-A',
      'M1:2:SKU-B',
      'M1:3:SKU-C',
      'M2:1:SKU-Z',
    ]);

    await t.db('order_items').insert({ ...line('M2', 'SKU-Z'), line_no: 2 });
    const refused = await orderItemLines.down(t.db).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(ConflictError);
    expect((refused as Error).message).to.match(/order M2 lists SKU SKU-Z on several lines/);
    expect(await t.db('order_items').count({ n: '*' })).to.deep.equal([{ n: '5' }]);
  });
});
