import fs from 'node:fs';
import { expect } from 'chai';
import { ingestFile } from '../../ingestion/ingest-file';
import { shopIngestionFiles } from '../../ingestion/shop-files';
import { ingestedShop } from '../support/shop';

const TABLES = ['customers', 'customer_identities', 'orders', 'order_items', 'returns', 'sessions', 'ingest_batches', 'ingest_rejects'];

describe('a generated shop, ingested', () => {
  it('loads with every dirty row rejected or merged, and a second ingestion changes no table count', async function () {
    this.timeout(600_000);
    const shop = await ingestedShop(3_000, 11);
    const counts = async () => {
      const out: Record<string, number> = {};
      for (const table of TABLES) out[table] = Number((await shop.db(table).count({ n: '*' }))[0]!.n);
      return out;
    };
    const before = await counts();
    expect(before.customers).to.be.at.least(3_000);
    // Every row the generator soiled with a bad amount or timestamp is rejected at its line, naming its column.
    const [, ...dirt] = fs.readFileSync(shop.shop.files.dirtyRows.path, 'utf8').trimEnd().split('\n');
    const expected = dirt
      .map((line) => line.split(','))
      .filter(([, , kind]) => ['malformed_amount', 'missing_timestamp', 'future_timestamp'].includes(kind!))
      .map(([file, row, , column]) => `${file}:${Number(row) + 1}:${column}`)
      .sort();
    expect(expected.length).to.be.greaterThan(50);
    const rejected = await shop
      .db('ingest_rejects as r')
      .join('ingest_batches as b', 'b.batch_id', 'r.batch_id')
      .select(shop.db.raw(`b.file_name || ':' || r.line_no || ':' || (x->>'field') as key`))
      .joinRaw(`cross join lateral jsonb_array_elements(r.reasons) x`)
      .whereIn('b.entity', ['orders', 'returns', 'sessions'])
      .whereIn(shop.db.raw(`x->>'reason'`) as unknown as string, ['malformed_amount', 'missing', 'future_timestamp']);
    const rejectedKeys = new Set(rejected.map((r) => r.key as string));
    expect(expected.filter((k) => !rejectedKeys.has(k))).to.deep.equal([]);

    for (const [entity, file] of shopIngestionFiles(shop.shop)) {
      const s = await ingestFile(shop.db, { entity, file, notAfter: shop.exportInstant });
      expect(s.seenBefore, entity).to.equal(true);
    }
    expect(await counts()).to.deep.equal(before);
  });
});
