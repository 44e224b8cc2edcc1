import { expect } from 'chai';
import { migrateLatest, migrateRollbackAll } from '../../lib/db';
import { freshDatabase, type TestDatabase } from '../support/db';

const foundationTables = [
  'customers',
  'customer_identities',
  'orders',
  'order_items',
  'returns',
  'sessions',
  'ingest_batches',
  'ingest_rejects',
];

async function userTables(t: TestDatabase): Promise<string[]> {
  const rows = await t
    .db('information_schema.tables')
    .where({ table_schema: 'public' })
    .whereNot('table_name', 'like', 'knex_%')
    .pluck('table_name');
  return rows.sort();
}

describe('migrations', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('migrations', { migrate: false });
  });
  after(() => t.db.destroy());

  it('go up, down to an empty schema, and up again', async () => {
    await migrateLatest(t.db);
    const up = await userTables(t);
    expect(up).to.include.members([...foundationTables, 'data_quality']);

    await migrateRollbackAll(t.db);
    expect(await userTables(t)).to.deep.equal([]);

    await migrateLatest(t.db);
    expect(await userTables(t)).to.deep.equal(up);
  });

  it('stores money as numeric', async () => {
    const money = await t
      .db('information_schema.columns')
      .where({ table_schema: 'public' })
      .whereIn('column_name', ['amount', 'discount_amount', 'unit_price'])
      .select('table_name', 'column_name', 'data_type');
    expect(money.length).to.be.greaterThanOrEqual(4);
    for (const column of money) expect(column.data_type, `${column.table_name}.${column.column_name}`).to.equal('numeric');
  });
});
