import { expect } from 'chai';
import { createApp } from '../../api/app';
import { createApiKey, revokeApiKey } from '../../access/api-keys';
import { startServer, type RunningServer } from '../../api/server';
import { DEFAULT_POLICY_KEY, seedDefaultPolicy } from '../../policy/default-policy';
import { evaluatePolicy } from '../../policy/evaluate-policy';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { until } from '../support/net';
import { insertScoredCustomers } from '../support/scored-customers';

const DAY_MS = 86_400_000;
const AT_RISK = Array.from({ length: 12 }, (_, i) => ({
  id: `risk-${i}`,
  churn: 0.9,
  clv: '900.00',
  clvLower: '700.00',
  segment: 'At risk',
}));

/**
 * The API keeps served profiles in memory (policy/served-profile-cache.ts) while it listens for changes: a profile
 * served from memory changes on the very next request after any change to what it is read from — a newly published
 * scoring run, an action decided, an order ingested — and an open action drops out when it expires, with no change
 * in the database. Revoking a key still refuses it at once.
 */
describe('Served profile cache', () => {
  let t: TestDatabase;
  let server: RunningServer;
  let key: string;
  let actedOn: string;
  const profile = async (id: string, withKey = key) => {
    const res = await call(server.url, 'GET', `/customer/profile/${id}`, { key: withKey });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };
  /** Profiles served from memory so far, from the API's metrics. */
  const hits = async () => {
    const res = await call(server.url, 'GET', '/metrics', { key });
    return Number(/^foresight_served_profiles_total\{source="memory"\} (\d+)$/m.exec(res.text)![1]);
  };
  /** Reads the profile until it is served from memory (once the app listens for changes), and returns it. */
  const cached = async (id: string) => {
    let document: unknown;
    await until(
      'the profile is served from memory',
      async () => {
        const before = await hits();
        document = await profile(id);
        return (await hits()) === before + 1;
      },
      10_000,
    );
    return document as Awaited<ReturnType<typeof profile>>;
  };

  before(async () => {
    t = await freshDatabase('profile_cache');
    // Customers at risk (the default policy acts on them), scored a month ago: stale, with the recency fallback.
    await insertScoredCustomers(t.db, AT_RISK, new Date(Date.now() - 30 * DAY_MS));
    await seedDefaultPolicy(t.db, { name: 'owner', role: 'owner' });
    await evaluatePolicy(t.db, DEFAULT_POLICY_KEY, { name: 'worker', role: null });
    actedOn = ((await t.db('actions').whereIn('status', ['proposed', 'pending_approval']).first('customer_id')) as { customer_id: string })
      .customer_id;
    key = (await createApiKey(t.db, { name: 'crm', role: 'service', createdBy: 'test' })).key;
    server = await startServer(createApp({ db: t.db, logger: memoryLogger().logger }), { port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  it('serves the newly published scoring run on the next request', async () => {
    const before = await cached('risk-1');
    expect(before.churn.probability).to.be.closeTo(0.9, 1e-6);
    // A newer run, still past the freshness contract, in which risk-1 is safe.
    const asOf = new Date(Date.now() - 20 * DAY_MS);
    await insertScoredCustomers(
      t.db,
      AT_RISK.map((c) => (c.id === 'risk-1' ? { ...c, churn: 0.2 } : c)),
      asOf,
    );
    const after = await profile('risk-1');
    expect(after.churn.probability).to.be.closeTo(0.2, 1e-6);
    expect(after).to.include({ asOf: asOf.toISOString(), stale: true, ageDays: 20 });
  });

  it('serves an action approved since on the next request', async () => {
    const before = await cached(actedOn);
    const open = before.openActions.find((a: { status: string }) => ['proposed', 'pending_approval'].includes(a.status));
    expect(open, 'an action waiting for a decision').to.not.equal(undefined);
    await t.db('actions').where({ action_id: open.actionId }).update({ status: 'approved', status_reason: 'approved by test' });
    const after = await profile(actedOn);
    expect(after.openActions.find((a: { actionId: number }) => a.actionId === open.actionId)).to.include({
      status: 'approved',
      statusReason: 'approved by test',
    });
  });

  it('serves the fallback from an order ingested since on the next request', async () => {
    const before = await cached('risk-2');
    expect(before.fallback).to.include({ daysSinceLastOrder: null, riskBand: 'high' });
    await t.db('orders').insert({
      order_id: 'o-new',
      customer_id: 'risk-2',
      ordered_at: new Date(Date.now() - 3.5 * DAY_MS),
      amount: 50,
      currency: 'EUR',
      status: 'completed',
    });
    expect((await profile('risk-2')).fallback).to.include({ daysSinceLastOrder: 3, riskBand: 'low' });
  });

  it('drops an open action from a profile in memory once it expires', async () => {
    const [action] = (await t
      .db('actions')
      .where({ customer_id: actedOn })
      .update({ expires_at: new Date(Date.now() + 1500) }, ['action_id'])) as {
      action_id: string;
    }[];
    const before = await cached(actedOn);
    expect(before.openActions.map((a: { actionId: number }) => a.actionId)).to.include(Number(action!.action_id));
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await profile(actedOn)).openActions).to.deep.equal([]);
  });

  it('refuses a revoked key at once, the profile being in memory', async () => {
    const other = await createApiKey(t.db, { name: 'desk', role: 'support', createdBy: 'test' });
    await cached('risk-3');
    expect((await profile('risk-3', other.key)).customerId).to.equal('risk-3');
    await revokeApiKey(t.db, other.keyId, 'test');
    const res = await call(server.url, 'GET', '/customer/profile/risk-3', { key: other.key });
    expect(res.status).to.equal(401);
  });
});
