import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { FEATURE_VERSION } from '../../features/catalog';
import { computeFeatureSnapshot, ensureFeatureSnapshot, loadFeatureMatrix } from '../../features/snapshots';
import { ingestFile } from '../../ingestion/ingest-file';
import { freshDatabase, type TestDatabase } from '../support/db';

const AS_OF = new Date('2026-06-01T00:00:00Z');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-snapshot-reuse-'));
function write(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * ensureFeatureSnapshot gives the snapshot on record when the data is as it was when it was computed (training's
 * segments and shadow evaluation need the snapshot the pipeline's refresh has just made), and computes it again
 * otherwise: after any ingestion, while a batch is unsettled, for another population, or for a snapshot recorded
 * without a fingerprint.
 */
describe('reusing a feature snapshot only while its data is unchanged', () => {
  let t: TestDatabase;
  const ingest = (entity: 'customers' | 'orders', name: string, lines: string[]) =>
    ingestFile(t.db, { entity, file: write(name, lines), notAfter: AS_OF });
  const header = () =>
    t.db('feature_snapshot_headers').where({ feature_version: FEATURE_VERSION }).first('computed_at', 'population', 'sources_fingerprint');
  const ordersOf = async (customerId: string) => {
    const matrix = await loadFeatureMatrix(t.db, AS_OF, FEATURE_VERSION, { customerIds: [customerId] });
    return matrix.X[matrix.featureNames.indexOf('orders_lifetime')];
  };

  before(async () => {
    t = await freshDatabase('snapshot_reuse');
    await ingest('customers', 'customers.csv', ['customer_id,email,signup_at', 'C1,a@example.com,2025-01-01T00:00:00Z']);
    await ingest('orders', 'orders-1.csv', [
      'order_id,customer_id,ordered_at,amount,currency,discount_amount,channel,status',
      'O1,C1,2025-02-01T00:00:00Z,10.00,EUR,0,web,completed',
    ]);
  });
  after(() => t.db.destroy());

  it('reuses the snapshot while nothing was ingested, and computes it again after an ingestion', async () => {
    const computed = await computeFeatureSnapshot(t.db, AS_OF);
    expect(computed.reused).to.equal(undefined);
    const first = await header();
    expect(first!.sources_fingerprint).to.match(/^[0-9a-f]{32}$/);

    const again = await ensureFeatureSnapshot(t.db, AS_OF);
    expect(again).to.deep.include({ reused: true, customerCount: 1, population: 'purchasers' });
    expect((await header())!.computed_at).to.deep.equal(first!.computed_at);
    expect(await ordersOf('C1')).to.equal(1);

    // A second order dated before the as-of: the snapshot on record no longer says what the data gives.
    await ingest('orders', 'orders-2.csv', [
      'order_id,customer_id,ordered_at,amount,currency,discount_amount,channel,status',
      'O2,C1,2025-03-01T00:00:00Z,12.00,EUR,0,web,completed',
    ]);
    const after = await ensureFeatureSnapshot(t.db, AS_OF);
    expect(after.reused).to.equal(undefined);
    expect(await ordersOf('C1')).to.equal(2);
    expect((await header())!.sources_fingerprint).to.not.equal(first!.sources_fingerprint);
    expect((await ensureFeatureSnapshot(t.db, AS_OF)).reused).to.equal(true);
  });

  it('computes it again while a batch is unsettled, for another population, and when it has no fingerprint', async () => {
    await computeFeatureSnapshot(t.db, AS_OF);
    const [batch] = await t.db('ingest_batches').orderBy('batch_id').limit(1).pluck('batch_id');
    await t.db('ingest_batches').where({ batch_id: batch }).update({ status: 'running' });
    expect((await ensureFeatureSnapshot(t.db, AS_OF)).reused).to.equal(undefined);
    expect((await header())!.sources_fingerprint).to.equal(null);
    expect((await ensureFeatureSnapshot(t.db, AS_OF)).reused).to.equal(undefined);
    await t.db('ingest_batches').where({ batch_id: batch }).update({ status: 'completed' });

    expect((await ensureFeatureSnapshot(t.db, AS_OF)).reused).to.equal(undefined);
    expect((await ensureFeatureSnapshot(t.db, AS_OF)).reused).to.equal(true);
    const other = await ensureFeatureSnapshot(t.db, AS_OF, { population: 'any_event' });
    expect(other).to.deep.include({ population: 'any_event' });
    expect(other.reused).to.equal(undefined);
    expect((await ensureFeatureSnapshot(t.db, AS_OF)).reused).to.equal(undefined);

    await t.db('feature_snapshot_headers').update({ sources_fingerprint: null });
    expect((await ensureFeatureSnapshot(t.db, AS_OF)).reused).to.equal(undefined);
  });
});
