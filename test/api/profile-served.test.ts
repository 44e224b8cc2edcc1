import { expect } from 'chai';
import { createApp } from '../../api/app';
import { createApiKey } from '../../access/api-keys';
import { startServer, type RunningServer } from '../../api/server';
import { DEFAULT_POLICY_KEY, seedDefaultPolicy } from '../../policy/default-policy';
import { evaluatePolicy } from '../../policy/evaluate-policy';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { insertScoredCustomers } from '../support/scored-customers';

const DAY_MS = 86_400_000;

/**
 * GET /customer/profile/:id reads the profile, the last completed order and the open actions in one statement: the
 * stale profile's fallback counts the days since the last completed order (cancelled ones do not count), and the open
 * actions are the customer's unexpired proposed, auto-approved, pending or approved actions, newest first, money as
 * decimal text — compared here with the actions table read on its own.
 */
describe('GET /customer/profile/:id: fallback and open actions', () => {
  let t: TestDatabase;
  let server: RunningServer;
  let key: string;
  const profile = async (id: string) => {
    const res = await call(server.url, 'GET', `/customer/profile/${id}`, { key });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };

  before(async () => {
    t = await freshDatabase('profile_served');
    // Valuable customers at risk (the default policy acts on them) and one safe customer without orders; scored a
    // month ago, past the 7-day freshness contract.
    await insertScoredCustomers(
      t.db,
      [
        ...Array.from({ length: 12 }, (_, i) => ({ id: `risk-${i}`, churn: 0.9, clv: '900.00', clvLower: '700.00', segment: 'At risk' })),
        { id: 'safe', churn: 0.05, clv: '40.00', segment: 'Champions' },
      ],
      new Date(Date.now() - 30 * DAY_MS),
    );
    const order = (id: string, customer: string, daysAgo: number, status: string) => ({
      order_id: id,
      customer_id: customer,
      ordered_at: new Date(Date.now() - daysAgo * DAY_MS),
      amount: 50,
      currency: 'EUR',
      status,
    });
    await t.db('orders').insert([order('o-1', 'risk-0', 40.5, 'completed'), order('o-2', 'risk-0', 2.5, 'cancelled')]);
    await seedDefaultPolicy(t.db, { name: 'owner', role: 'owner' });
    await evaluatePolicy(t.db, DEFAULT_POLICY_KEY, { name: 'worker', role: null });
    key = (await createApiKey(t.db, { name: 'crm', role: 'service', createdBy: 'test' })).key;
    server = await startServer(createApp({ db: t.db, logger: memoryLogger().logger }), { port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  it('gives the stale profile the recency fallback from completed orders only', async () => {
    const withOrder = await profile('risk-0');
    expect(withOrder).to.include({ stale: true, freshnessDays: 7 });
    expect(withOrder.fallback).to.deep.equal({
      method: 'recency rule: no completed order for over 90 days',
      daysSinceLastOrder: 40,
      churnScore: 0,
      riskBand: 'low',
    });
    const withoutOrder = await profile('safe');
    expect(withoutOrder.fallback).to.include({ daysSinceLastOrder: null, churnScore: 1, riskBand: 'high' });
  });

  it("lists the customer's open, unexpired actions, newest first, as the actions table holds them", async () => {
    const acted = (await t.db('actions').distinct('customer_id').pluck('customer_id')) as string[];
    expect(acted.length, 'the default policy acts on customers at risk').to.be.greaterThan(1);
    // One customer's actions expire: they are no longer open.
    const [expired, ...others] = acted.sort();
    await t
      .db('actions')
      .where({ customer_id: expired })
      .update({ expires_at: new Date(Date.now() - 1000) });
    expect((await profile(expired!)).openActions).to.deep.equal([]);

    let open = 0;
    for (const id of others) {
      const rows = await t
        .db('actions')
        .where({ customer_id: id })
        .whereIn('status', ['proposed', 'auto_approved', 'pending_approval', 'approved'])
        .where('expires_at', '>', new Date())
        .orderBy('decided_at', 'desc');
      const expected = rows.map((r) => ({
        actionId: Number(r.action_id),
        actionType: r.action_type,
        campaign: r.campaign,
        status: r.status,
        statusReason: r.status_reason,
        incentiveAmount: r.incentive_amount,
        decidedAt: (r.decided_at as Date).toISOString(),
        expiresAt: (r.expires_at as Date).toISOString(),
      }));
      expect((await profile(id)).openActions, id).to.deep.equal(expected);
      open += expected.length;
    }
    expect(open).to.be.greaterThan(0);
  });
});
