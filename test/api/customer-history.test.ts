import { expect } from 'chai';
import { createApp } from '../../api/app';
import { createApiKey } from '../../access/api-keys';
import { startServer, type RunningServer } from '../../api/server';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { insertScoredCustomers } from '../support/scored-customers';

/**
 * GET /customer/:id/timeline and /customer/:id/scores on known rows: the customer's orders, returns and sessions
 * newest first (ties in time in a fixed order), paged by cursor without losing or repeating an event; the scores of
 * the published runs only, newest first, money as decimal text.
 */
describe('GET /customer/:id/timeline and /customer/:id/scores', () => {
  let t: TestDatabase;
  let server: RunningServer;
  let key: string;
  const get = (path: string) => call(server.url, 'GET', path, { key });

  before(async () => {
    t = await freshDatabase('customer_history');
    await insertScoredCustomers(
      t.db,
      [
        { id: 'c-1', churn: 0.2, clv: '310.40', segment: 'Loyal' },
        { id: 'c-2', churn: 0.5, clv: '5.00' },
      ],
      new Date('2026-09-01T00:00:00Z'),
    );
    await insertScoredCustomers(t.db, [{ id: 'c-1', churn: 0.7, clv: '120.05', segment: 'At risk' }], new Date('2026-10-01T00:00:00Z'));
    // A run still writing its rows: never shown.
    const [running] = await t
      .db('scoring_runs')
      .insert({ as_of: new Date('2026-11-01T00:00:00Z'), run_key: 'running', status: 'running' })
      .returning<{ run_id: string }[]>('run_id');
    await t.db('customer_risk_scores').insert({
      run_id: running!.run_id,
      as_of: new Date('2026-11-01T00:00:00Z'),
      customer_id: 'c-1',
      churn_probability: 0.99,
      churn_horizon_days: 90,
      clv_horizon_months: 12,
      confidence: 'high',
    });
    await t.db('customers').insert({ customer_id: 'quiet' });
    await t.db('orders').insert([
      {
        order_id: 'o-1',
        customer_id: 'c-1',
        ordered_at: '2026-08-01T10:00:00.000123Z',
        amount: '19.99',
        currency: 'EUR',
        discount_amount: '2.50',
        channel: 'web',
        status: 'completed',
      },
      {
        order_id: 'o-2',
        customer_id: 'c-1',
        ordered_at: '2026-08-20T12:00:00Z',
        amount: '1000000.10',
        currency: 'EUR',
        channel: 'app',
        status: 'completed',
      },
      { order_id: 'o-x', customer_id: 'c-2', ordered_at: '2026-08-21T12:00:00Z', amount: '7.00', currency: 'EUR', status: 'completed' },
    ]);
    await t
      .db('returns')
      .insert({ return_id: 'r-1', order_id: 'o-1', customer_id: 'c-1', returned_at: '2026-08-05T09:00:00Z', amount: '19.99' });
    await t.db('sessions').insert([
      // The same instant as o-2 and a microsecond after o-1: the order of ties and sub-millisecond times must hold.
      { session_id: 's-1', customer_id: 'c-1', started_at: '2026-08-20T12:00:00Z', duration_s: 300, page_views: 7, device: 'mobile' },
      { session_id: 's-2', customer_id: 'c-1', started_at: '2026-08-01T10:00:00.000124Z', duration_s: 60, page_views: 2 },
    ]);
    key = (await createApiKey(t.db, { name: 'support desk', role: 'support', createdBy: 'test' })).key;
    server = await startServer(createApp({ db: t.db, logger: memoryLogger().logger }), { port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  it("lists the customer's orders, returns and sessions newest first, with money as decimal text", async () => {
    const res = await get('/customer/c-1/timeline');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.nextCursor).to.equal(null);
    expect(res.body.events.map((e: { kind: string; id: string }) => `${e.kind}:${e.id}`)).to.deep.equal([
      'session:s-1',
      'order:o-2',
      'return:r-1',
      'session:s-2',
      'order:o-1',
    ]);
    expect(res.body.events[1]).to.deep.equal({
      kind: 'order',
      id: 'o-2',
      at: '2026-08-20T12:00:00.000Z',
      amount: '1000000.10',
      currency: 'EUR',
      discountAmount: '0.00',
      channel: 'app',
      status: 'completed',
    });
    expect(res.body.events[2]).to.deep.equal({
      kind: 'return',
      id: 'r-1',
      at: '2026-08-05T09:00:00.000Z',
      amount: '19.99',
      currency: 'EUR',
      orderId: 'o-1',
    });
    expect(res.body.events[0]).to.deep.equal({
      kind: 'session',
      id: 's-1',
      at: '2026-08-20T12:00:00.000Z',
      durationS: 300,
      pageViews: 7,
      device: 'mobile',
    });
  });

  it('pages by cursor through every event once, including events a microsecond apart', async () => {
    const seen: string[] = [];
    let path = '/customer/c-1/timeline?limit=2';
    for (let pages = 0; pages < 5; pages++) {
      const res = await get(path);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      seen.push(...res.body.events.map((e: { id: string }) => e.id));
      if (res.body.nextCursor === null) break;
      path = `/customer/c-1/timeline?limit=2&after=${encodeURIComponent(res.body.nextCursor)}`;
    }
    expect(seen).to.deep.equal(['s-1', 'o-2', 'r-1', 's-2', 'o-1']);
  });

  it('answers an empty timeline, 404 for an unknown customer and 400 naming a bad parameter', async () => {
    expect((await get('/customer/quiet/timeline')).body).to.deep.equal({ customerId: 'quiet', events: [], nextCursor: null });
    for (const path of ['/customer/nobody/timeline', '/customer/nobody/scores']) expect((await get(path)).status, path).to.equal(404);
    const badCursor = await get('/customer/c-1/timeline?after=abc');
    expect(badCursor.status).to.equal(400);
    expect(badCursor.body.error.field).to.equal('after');
    const badLimit = await get('/customer/c-1/timeline?limit=0');
    expect(badLimit.status).to.equal(400);
    expect(badLimit.body.error.field).to.equal('limit');
    expect((await get('/customer/c-1/scores?limit=x')).body.error.field).to.equal('limit');
  });

  it('gives the scores of each published run, newest first, and none from a run still writing', async () => {
    const res = await get('/customer/c-1/scores');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(
      res.body.runs.map((r: Record<string, unknown>) => [
        r.asOf,
        r.churnProbability,
        r.riskBand,
        r.clvExpectedNetRevenue,
        r.segment,
        r.confidence,
      ]),
    ).to.deep.equal([
      ['2026-10-01T00:00:00.000Z', 0.7, 'high', '120.05', 'At risk', 'high'],
      ['2026-09-01T00:00:00.000Z', 0.2, 'low', '310.40', 'Loyal', 'high'],
    ]);
    expect((await get('/customer/c-1/scores?limit=1')).body.runs).to.have.length(1);
    expect((await get('/customer/quiet/scores')).body).to.deep.equal({ customerId: 'quiet', runs: [] });
  });
});
