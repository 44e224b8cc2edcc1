import { expect } from 'chai';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { FEATURE_NAMES, FEATURE_VERSION } from '../../features/catalog';
import { createDraft } from '../../policy/lifecycle';
import { DEFAULT_PARAMETERS, DEFAULT_RULES } from '../../policy/default-policy';
import { insertCompletedExport, insertScoredCustomers, type ScoredCustomer } from '../support/scored-customers';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';

const MATURED = new Date('2026-06-01T00:00:00Z');
const LATEST = new Date('2026-11-01T00:00:00Z');
const author = { name: 'marketing person', role: 'marketing' as const };

/** Pearson's r, written out: the test's own arithmetic, not the database's. */
function pearson(x: number[], y: number[]): number {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  x.forEach((xi, i) => {
    sxy += (xi - mx) * (y[i]! - my);
    sxx += (xi - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * The read side of the console's insights and policy-tuning views, over real HTTP on a real database with hand-made
 * runs: driver shares and CLV correlations per segment and over runs, the threshold cost curve against sums worked
 * out here, version diffs, and every parameter error named at once.
 */
describe('Insights, threshold costs, version diffs and parameter errors (API)', () => {
  let t: TestDatabase;
  let server: RunningServer;
  const keys: Record<string, string> = {};
  let versionId: number;

  before(async () => {
    t = await freshDatabase('insights_tuning');
    for (const role of ['owner', 'finance', 'support'] as const) {
      keys[role] = (await createApiKey(t.db, { name: role, role, createdBy: 'test' })).key;
    }
    server = await startServer(createApp({ db: t.db, logger: memoryLogger().logger, similarPerSecond: 1000 }), {
      port: 0,
      host: '127.0.0.1',
    });
    // Incentive: 10 % of the conservative CLV, capped at 25 (40 for Champions).
    versionId = (await createDraft(t.db, { policyKey: 'retention', rules: DEFAULT_RULES, parameters: DEFAULT_PARAMETERS }, author))
      .versionId;
  });

  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  const get = (path: string, key = keys.owner) => call(server.url, 'GET', path, { key });

  it('says why there is no threshold curve while no run has a full horizon of outcomes', async () => {
    await insertScoredCustomers(t.db, [{ id: 'z1', churn: 0.5, clv: '10.00' }], LATEST);
    expect((await get(`/policies/versions/${versionId}/threshold-costs`)).body.unavailable).to.match(/No orders export/);
    // Orders known up to the latest run: the matured-run rule reads the exports, not the runs.
    await insertCompletedExport(t.db, 'orders', LATEST);
    const res = await get(`/policies/versions/${versionId}/threshold-costs`);
    expect(res.status).to.equal(200);
    expect(res.body.run).to.equal(null);
    expect(res.body.points).to.deep.equal([]);
    expect(res.body.unavailable).to.match(/full churn horizon/);
    expect(res.body.currentThreshold).to.equal(0.6);
  });

  it('prices each churn threshold on the latest matured run: missed churners’ CLV against incentives to stayers', async () => {
    const customers: (ScoredCustomer & { buys: boolean })[] = [
      { id: 'a', churn: 0.9, clv: '300.00', clvLower: '200.00', segment: 'At risk', buys: false },
      { id: 'b', churn: 0.7, clv: '100.00', clvLower: '80.00', segment: 'At risk', buys: true },
      { id: 'c', churn: 0.65, clv: '900.00', clvLower: '600.00', segment: 'Champions', buys: true },
      { id: 'd', churn: 0.4, clv: '500.00', clvLower: '450.00', segment: 'Loyal', buys: false },
      { id: 'e', churn: 0.2, clv: '50.00', clvLower: '40.00', segment: 'Loyal', buys: true },
      { id: 'f', churn: 0.1, clv: '70.00', segment: 'Loyal', buys: false },
      { id: 'g', churn: 0.05, clv: '1000.00', clvLower: '900.00', segment: 'Loyal', buys: true },
    ];
    await insertScoredCustomers(t.db, customers, MATURED);
    // Purchases inside the window (June 1, +90 days]; one after it, which must not count.
    const orders = customers
      .filter((c) => c.buys)
      .map((c, i) => ({ order_id: `o${i}`, customer_id: c.id, ordered_at: new Date('2026-07-15T00:00:00Z'), amount: '20.00' }));
    orders.push({ order_id: 'late', customer_id: 'a', ordered_at: new Date('2026-10-01T00:00:00Z'), amount: '20.00' });
    await t.db('orders').insert(orders.map((o) => ({ ...o, currency: 'USD', status: 'completed' })));

    const res = await get(`/policies/versions/${versionId}/threshold-costs`, keys.finance);
    expect(res.status).to.equal(200);
    expect(res.body.run.asOf).to.equal(MATURED.toISOString());
    expect(res.body.run.horizonDays).to.equal(90);
    expect(res.body.customers).to.equal(7);
    expect(res.body.churned).to.equal(3);
    expect(res.body.points).to.have.length(101);
    const at = (threshold: number) => res.body.points.find((p: { threshold: number }) => p.threshold === threshold);
    // At 0.5: churners below are d (500) and f (70), costing 25 % of it (the offer's response rate); stayers at or above
    // are b (10% of 80 = 8) and c (Champions: 10% of 600 = 60, capped at 40).
    expect(at(0.5)).to.deep.include({
      missedChurners: 2,
      missedClv: '570.00',
      missedCost: '142.50',
      falseAlarms: 2,
      leakage: '48.00',
      total: '190.50',
    });
    // At 0.15: only f missed; b, c and e (10% of 40 = 4) are false alarms.
    expect(at(0.15)).to.deep.include({ missedClv: '70.00', missedCost: '17.50', leakage: '52.00', total: '69.50' });
    // At 0: no churner missed, every stayer is a false alarm (g: 10% of 900, capped at 25).
    expect(at(0)).to.deep.include({ missedChurners: 0, falseAlarms: 4, leakage: '77.00', total: '77.00' });
    expect(at(1)).to.deep.include({ missedChurners: 3, missedClv: '870.00', missedCost: '217.50', falseAlarms: 0, total: '217.50' });
    // Lowest total: from 0.06 g no longer gets an offer and nobody is missed until f at 0.11 (52 from 0.06 to 0.10,
    // then 69.50 and 65.50; the lowest threshold among ties).
    expect(at(0.1)).to.deep.include({ total: '52.00' });
    expect(res.body.minimum).to.deep.include({ threshold: 0.06, missedChurners: 0, total: '52.00' });
    // Support does not read costs.
    expect((await get(`/policies/versions/${versionId}/threshold-costs`, keys.support)).status).to.equal(403);
  });

  it('summarises churn drivers per segment and over runs, and CLV correlations, for the latest runs', async () => {
    await t.db('feature_sets').insert({ feature_version: FEATURE_VERSION, feature_names: [...FEATURE_NAMES], definition_sha256: 'test' });
    const latestRun = Number((await t.db('scoring_runs').where({ as_of: LATEST }).first('run_id')).run_id);
    const drivers: Record<string, { feature: string; contribution: number }[]> = {
      a: [
        { feature: 'recency_days', contribution: 0.8 },
        { feature: 'orders_90d', contribution: 0.2 },
      ],
      b: [
        { feature: 'recency_days', contribution: 0.4 },
        { feature: 'spend_90d', contribution: -0.3 },
      ],
      c: [{ feature: 'orders_90d', contribution: 0.6 }],
      d: [{ feature: 'spend_90d', contribution: -0.2 }],
    };
    const segments: Record<string, string> = { a: 'At risk', b: 'At risk', c: 'Loyal', d: 'Loyal' };
    const clv: Record<string, number> = { a: 100, b: 300, c: 200, d: 600 };
    const recency: Record<string, number> = { a: 90, b: 40, c: 30, d: 5 };
    await t
      .db('customers')
      .insert(Object.keys(drivers).map((id) => ({ customer_id: id })))
      .onConflict('customer_id')
      .ignore();
    await t.db('customer_risk_scores').where({ run_id: latestRun }).delete();
    await t.db('customer_risk_scores').insert(
      Object.keys(drivers).map((id) => ({
        run_id: latestRun,
        as_of: LATEST,
        customer_id: id,
        churn_probability: 0.5,
        churn_horizon_days: 90,
        churn_drivers: JSON.stringify(drivers[id]!.map((d) => ({ ...d, value: 1, sentence: 's' }))),
        clv_expected_net_revenue: clv[id]!.toFixed(2),
        clv_horizon_months: 12,
        segment: segments[id],
        confidence: 'high',
      })),
    );
    const recencyAt = FEATURE_NAMES.indexOf('recency_days');
    await t.db('feature_snapshots').insert(
      Object.keys(drivers).map((id) => {
        const values: (number | null)[] = FEATURE_NAMES.map(() => null);
        values[recencyAt] = recency[id]!;
        return { as_of: LATEST, feature_version: FEATURE_VERSION, customer_id: id, values };
      }),
    );

    const res = await get('/insights?runs=2');
    expect(res.status).to.equal(200);
    expect(res.body.runs.map((r: { asOf: string }) => r.asOf)).to.deep.equal([MATURED.toISOString(), LATEST.toISOString()]);
    // Only drivers pushing toward churn count: spend_90d (negative for b and d) is not a churn driver.
    const overall = res.body.churn.overall;
    expect(overall.map((d: { feature: string }) => d.feature)).to.deep.equal(['orders_90d', 'recency_days']);
    expect(overall[1]).to.deep.include({ customers: 2, share: 0.5 });
    expect(overall[1].meanContribution).to.be.closeTo(0.6, 1e-6);
    const atRisk = res.body.churn.segments.find((s: { segment: string }) => s.segment === 'At risk');
    expect(atRisk.customers).to.equal(2);
    expect(atRisk.items[0]).to.deep.include({ feature: 'recency_days', customers: 2, share: 1 });
    // Over the two runs: the matured run's drivers are the fixture's feature "x"; recency_days appears in the latest only.
    const recencyTrend = res.body.trend.churn.find((f: { feature: string }) => f.feature === 'recency_days');
    expect(recencyTrend.shares).to.deep.equal([0, 0.5]);
    // CLV: recency's correlation with CLV, as computed here; features without values have none.
    const ids = Object.keys(drivers);
    const expected = pearson(
      ids.map((id) => recency[id]!),
      ids.map((id) => clv[id]!),
    );
    const recencyClv = res.body.clv.overall.find((f: { feature: string }) => f.feature === 'recency_days');
    expect(res.body.clv.overall[0].feature).to.equal('recency_days');
    expect(recencyClv.correlation).to.be.closeTo(expected, 1e-9);
    expect(recencyClv.customers).to.equal(4);
    const loyal = res.body.clv.segments.find((s: { segment: string }) => s.segment === 'Loyal');
    expect(loyal.items[0].correlation).to.be.closeTo(-1, 1e-9); // two points: a line
    expect(res.body.trend.clv[0].feature).to.equal('recency_days');
    expect(res.body.trend.clv[0].correlations[0]).to.equal(null); // no snapshot kept for the matured run
    expect(res.body.trend.clv[0].correlations[1]).to.be.closeTo(expected, 1e-9);

    expect((await get('/insights?runs=0')).body.error.field).to.equal('runs');
    expect((await get('/insights', keys.support)).status).to.equal(403);
  });

  it('diffs two versions: rules by name and parameters path by path', async () => {
    const parameters = structuredClone(DEFAULT_PARAMETERS);
    parameters.actions.retention_offer!.responseRate = 0.3;
    parameters.actions.retention_offer!.thresholds.minChurnProbability = 0.55;
    parameters.holdoutRate = 0.1;
    delete parameters.segments.New;
    const rules = DEFAULT_RULES.filter((r) => r.name !== 'win-back-for-lapsed');
    const next = await createDraft(t.db, { policyKey: 'retention', rules, parameters }, author);
    const res = await get(`/policies/versions/${next.versionId}/diff?against=${versionId}`, keys.support);
    expect(res.status).to.equal(200);
    expect(res.body.from.version).to.equal(1);
    expect(res.body.to.version).to.equal(2);
    expect(res.body.changes).to.deep.equal([
      { path: 'rules.win-back-for-lapsed', kind: 'removed', before: DEFAULT_RULES.find((r) => r.name === 'win-back-for-lapsed') },
      { path: 'parameters.actions.retention_offer.responseRate', kind: 'changed', before: 0.25, after: 0.3 },
      { path: 'parameters.actions.retention_offer.thresholds.minChurnProbability', kind: 'changed', before: 0.6, after: 0.55 },
      { path: 'parameters.holdoutRate', kind: 'changed', before: 0.05, after: 0.1 },
      { path: 'parameters.segments.New', kind: 'removed', before: DEFAULT_PARAMETERS.segments.New },
    ]);
    const bad = await get(`/policies/versions/${next.versionId}/diff?against=x`);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal('against');
    expect((await get(`/policies/versions/${next.versionId}/diff?against=999`)).status).to.equal(404);
  });

  it('names every field at fault in a parameters draft, not only the first', async () => {
    const parameters = structuredClone(DEFAULT_PARAMETERS) as unknown as Record<string, Record<string, Record<string, unknown>>>;
    parameters.actions!.retention_offer!.responseRate = 1.5;
    parameters.actions!.retention_offer!.incentiveCap = 'lots';
    (parameters as Record<string, unknown>).holdoutRate = -1;
    const res = await call(server.url, 'POST', '/policies/retention/parameters', { key: keys.owner, json: { parameters } });
    expect(res.status).to.equal(400);
    expect(res.body.error.field).to.equal('parameters.actions.retention_offer.responseRate');
    expect(res.body.error.message).to.match(/and 2 more/);
    expect(res.body.error.issues.map((i: { field: string }) => i.field)).to.have.members([
      'parameters.actions.retention_offer.responseRate',
      'parameters.actions.retention_offer.incentiveCap',
      'parameters.holdoutRate',
    ]);
  });
});
