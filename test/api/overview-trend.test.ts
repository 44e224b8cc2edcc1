import { expect } from 'chai';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { insertScoredCustomers } from '../support/scored-customers';

const [T1, T2, T3] = ['2026-01-31T00:00:00.000Z', '2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z'];

/**
 * GET /overview's trend over published runs on a hand-built shop of three customers and three runs: revenue at risk,
 * average CLV, retention, churn and net revenue retention per run, segment sizes per run, freshness from the latest
 * monitoring report, and the open alerts. Every expected figure is worked out by hand in the comments.
 */
describe('API: /overview trend and KPIs over published runs', () => {
  let t: TestDatabase;
  let server: RunningServer;
  let key: string;

  before(async () => {
    t = await freshDatabase('overview_trend');
    const app = createApp({ db: t.db, logger: memoryLogger().logger });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    key = (await createApiKey(t.db, { name: 'finance person', role: 'finance', createdBy: 'test' })).key;
  });

  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  it('starts empty: no run, no freshness, nothing open or waiting', async () => {
    const { status, body } = await call(server.url, 'GET', '/overview', { key });
    expect(status).to.equal(200);
    expect(body).to.deep.include({ trend: [], freshness: null, openAlerts: 0, actionsWaitingForApproval: 0 });
  });

  it('computes each run’s KPIs in SQL from its profiles and the orders between runs', async () => {
    await insertScoredCustomers(
      t.db,
      [
        { id: 'a', churn: 0.5, clv: '100.00', segment: 'Lost' },
        { id: 'b', churn: 0.25, clv: '50.00', segment: 'Champions' },
      ],
      new Date(T1),
    );
    await insertScoredCustomers(
      t.db,
      [
        { id: 'a', churn: 0.25, clv: '200.00', segment: 'Champions' },
        { id: 'b', churn: 0.125, clv: '300.00', segment: 'Champions' },
        { id: 'c', churn: 1, clv: '10.01', segment: 'Lost' },
      ],
      new Date(T2),
    );
    const run3 = await insertScoredCustomers(
      t.db,
      [
        { id: 'a', churn: 0.25, clv: '400.00', segment: 'Champions' },
        { id: 'c', churn: 0.5, clv: '0.03', segment: 'Lost' },
      ],
      new Date(T3),
    );
    // A run still running is no published run: its profiles count nowhere.
    const [running] = await t
      .db('scoring_runs')
      .insert({ as_of: '2026-04-30T00:00:00Z', run_key: 'unpublished', status: 'running' }, ['run_id']);
    await t.db('customer_risk_scores').insert({
      run_id: running!.run_id,
      as_of: '2026-04-30T00:00:00Z',
      customer_id: 'a',
      churn_probability: 0.99,
      churn_horizon_days: 90,
      clv_expected_net_revenue: '99999.99',
      clv_horizon_months: 12,
      segment: 'Lost',
      confidence: 'high',
    });
    const order = (id: string, customer: string, at: string, amount: string, status = 'completed') => ({
      order_id: id,
      customer_id: customer,
      ordered_at: at,
      amount,
      currency: 'EUR',
      status,
    });
    await t.db('orders').insert([
      order('o1', 'a', '2026-01-15T00:00:00Z', '40.00'), // before T1: in no window
      order('o2', 'a', '2026-02-10T00:00:00Z', '100.00'), // (T1, T2]
      order('o3', 'b', '2026-02-20T00:00:00Z', '50.00'), // (T1, T2]
      order('o4', 'b', '2026-02-21T00:00:00Z', '999.00', 'cancelled'), // cancelled: no revenue, no retention
      order('o5', 'b', T2, '10.00'), // exactly at T2: the window (T1, T2], not (T2, T3]
      order('o6', 'a', '2026-03-05T00:00:00Z', '80.00'), // (T2, T3]
      order('o7', 'c', '2026-03-10T00:00:00Z', '30.00'), // (T2, T3], c bought nothing in (T1, T2]
    ]);
    await t.db('monitoring_reports').insert({
      run_id: run3,
      as_of: T3,
      figures: JSON.stringify({
        runId: run3,
        asOf: T3,
        sourceFreshness: {
          orders: { latestEventAt: '2026-03-10T00:00:00.000Z', ageDays: 21 },
          sessions: { latestEventAt: null, ageDays: null },
        },
        runAgeDays: 2.5,
      }),
    });
    await t.db('alerts').insert([
      { kind: 'feature_drift', message: 'drift' },
      { kind: 'stale_data', message: 'stale' },
      { kind: 'score_drift', message: 'old', status: 'resolved', resolved_at: new Date(), resolved_by: 'monitoring' },
    ]);

    const { status, body } = await call(server.url, 'GET', '/overview', { key });
    expect(status).to.equal(200);
    expect(body.trend).to.have.length(3);
    const [r1, r2, r3] = body.trend;
    // Run 1: 0.5 × 100.00 + 0.25 × 50.00 = 62.50; CLV (100 + 50) / 2 = 75.00; no previous run.
    expect(r1).to.deep.include({ asOf: T1, customersScored: 2, revenueAtRisk: '62.50', averageClv: '75.00' });
    expect(r1).to.deep.include({
      previousCustomers: 0,
      retainedCustomers: 0,
      retentionRate: null,
      churnRate: null,
      netRevenueRetention: null,
    });
    // Run 2: 0.25 × 200 + 0.125 × 300 + 1 × 10.01 = 97.51; CLV 510.01 / 3 = 170.00; a and b both ordered in (T1, T2].
    expect(r2).to.deep.include({ asOf: T2, customersScored: 3, revenueAtRisk: '97.51', averageClv: '170.00' });
    expect(r2).to.deep.include({ previousCustomers: 2, retainedCustomers: 2, retentionRate: 1, churnRate: 0, netRevenueRetention: null });
    // Run 3: 0.25 × 400 + 0.5 × 0.03 = 100.015 → 100.02; CLV 400.03 / 2 = 200.015 → 200.02 (numeric rounds half away
    // from zero). Of a, b, c only a and c ordered in (T2, T3]: 2 of 3. NRR: a and b bought 100 + (50 + 10) = 160 in
    // (T1, T2] (the cancelled 999 left out) and 80 in (T2, T3] (c is not in the base): 80 / 160 = 0.5.
    expect(r3).to.deep.include({ runId: run3, asOf: T3, customersScored: 2, revenueAtRisk: '100.02', averageClv: '200.02' });
    expect(r3).to.deep.include({ previousCustomers: 3, retainedCustomers: 2, netRevenueRetention: 0.5 });
    expect(r3.retentionRate).to.be.closeTo(2 / 3, 1e-12);
    expect(r3.churnRate).to.be.closeTo(1 / 3, 1e-12);
    expect(body.trend.map((r: { segments: unknown }) => r.segments)).to.deep.equal([
      [
        { segment: 'Champions', customers: 1 },
        { segment: 'Lost', customers: 1 },
      ],
      [
        { segment: 'Champions', customers: 2 },
        { segment: 'Lost', customers: 1 },
      ],
      [
        { segment: 'Champions', customers: 1 },
        { segment: 'Lost', customers: 1 },
      ],
    ]);
    expect(body.freshness).to.deep.equal({
      runId: run3,
      asOf: T3,
      runAgeDays: 2.5,
      sources: [
        { source: 'orders', latestEventAt: '2026-03-10T00:00:00.000Z', ageDays: 21 },
        { source: 'sessions', latestEventAt: null, ageDays: null },
      ],
    });
    expect(body).to.include({ openAlerts: 2, actionsWaitingForApproval: 0 });
  });

  it('documents the answer in the OpenAPI document', async () => {
    const { body } = await call(server.url, 'GET', '/openapi.json');
    const schema = body.paths['/overview'].get.responses['200'].content['application/json'].schema;
    expect(schema.properties).to.include.keys('trend', 'freshness', 'openAlerts', 'actionsWaitingForApproval', 'revenueAtRisk');
  });
});
