import path from 'node:path';
import { expect } from 'chai';
import { importCdnow } from '../../ingestion/import-cdnow';
import { freshDatabase, type TestDatabase } from '../support/db';
import { cdnowDir } from '../../lib/project-root';

describe('CDNOW import', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('cdnow');
  });
  after(() => t.db.destroy());

  it('loads all 69,659 purchases of 23,570 customers, and again without change', async () => {
    const master = path.join(cdnowDir, 'CDNOW_master.txt');
    const first = await importCdnow(t.db, master);
    expect(first.orders).to.include({ accepted: 69_659, rejected: 0 });
    expect(first.customers).to.include({ accepted: 23_570, rejected: 0 });
    const totals = await t
      .db('orders')
      .select(t.db.raw('count(*)::int as n, count(distinct customer_id)::int as customers, sum(amount)::text as total'));
    // Summed in numeric by Postgres: exact to the cent.
    expect(totals[0]).to.deep.equal({ n: 69_659, customers: 23_570, total: '2500315.63' });

    const again = await importCdnow(t.db, master);
    expect(again.orders.seenBefore).to.equal(true);
    expect(Number((await t.db('orders').count({ n: '*' }))[0]!.n)).to.equal(69_659);
  });
});
