import { expect } from 'chai';
import { ingestedShop, type IngestedShop } from '../support/shop';

const TABLES = ['customers', 'customer_identities', 'orders', 'order_items', 'returns', 'sessions'];

async function counts(shop: IngestedShop): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) out[table] = Number((await shop.db(table).count({ n: '*' }))[0]!.n);
  return out;
}

describe('generated shops in each session mode, ingested', () => {
  it('loads a transactions-only shop with no sessions and the same transactions as the default shop', async function () {
    this.timeout(600_000);
    const full = await ingestedShop(2_000, 21);
    const none = await ingestedShop(2_000, 21, { sessions: 'none' });
    const [withSessions, without] = [await counts(full), await counts(none)];
    expect(withSessions.sessions).to.be.greaterThan(5_000);
    expect(without).to.deep.equal({ ...withSessions, sessions: 0 });
    const entities = await none.db('ingest_batches').distinct('entity').pluck('entity');
    expect(entities.sort()).to.deep.equal(['customers', 'identities', 'order_items', 'orders', 'returns']);
  });

  it('loads a realistic-signal shop with the default shop transactions and other sessions', async function () {
    this.timeout(600_000);
    const full = await ingestedShop(2_000, 21);
    const realistic = await ingestedShop(2_000, 21, { signal: 'realistic' });
    const [strong, loose] = [await counts(full), await counts(realistic)];
    expect(loose.sessions).to.be.greaterThan(5_000);
    expect(loose.sessions).to.not.equal(strong.sessions);
    expect({ ...loose, sessions: 0 }).to.deep.equal({ ...strong, sessions: 0 });
  });
});
