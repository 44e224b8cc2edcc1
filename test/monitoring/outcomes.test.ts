import { expect } from 'chai';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { createDb } from '../../lib/db';
import { runOutcomes } from '../../monitoring/outcomes';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { insertCompletedExport, insertScoredCustomers, type ScoredCustomer } from '../support/scored-customers';

/**
 * Four customers scored by three runs, and what they then did. Run 1 (2026-01-01): churn 90 days later a (only a
 * cancelled order) and d (ordered after the churn window) churned, b and c did not: realised 0.5 against a predicted
 * mean of 0.5, Brier ((0.1)² + (0.1)² + (0.5)² + (0.5)²) / 4 = 0.13. Over its 12 months they brought in b 100, c 50 less
 * a 20 return, d 30, a 40 in November: 200.00 against 360.00 predicted. Run 2 (2026-10-01): only a ordered in its churn window:
 * realised 0.75, predicted 0.65, Brier 0.04; its CLV horizon has not matured. Run 3 (2027-01-15): nothing matured.
 */
const scored = (churn: number[], clv: string[]): ScoredCustomer[] =>
  ['a', 'b', 'c', 'd'].map((id, i) => ({ id, churn: churn[i]!, clv: clv[i]! }));

describe('monitoring outcomes: calibration over time and CLV realised vs predicted, once horizons mature', () => {
  let t: TestDatabase;
  let server: RunningServer;
  const keys: Record<string, string> = {};
  const runIds: number[] = [];
  const batch = (entity: string, exportedAt: string) => insertCompletedExport(t.db, entity, exportedAt);

  before(async () => {
    t = await freshDatabase('outcomes');
    runIds.push(
      await insertScoredCustomers(
        t.db,
        scored([0.9, 0.1, 0.5, 0.5], ['100.00', '200.00', '50.00', '10.00']),
        new Date('2026-01-01T00:00:00Z'),
      ),
    );
    runIds.push(
      await insertScoredCustomers(t.db, scored([0.2, 0.8, 0.8, 0.8], ['1.00', '1.00', '1.00', '1.00']), new Date('2026-10-01T00:00:00Z')),
    );
    runIds.push(
      await insertScoredCustomers(t.db, scored([0.3, 0.3, 0.3, 0.3], ['1.00', '1.00', '1.00', '1.00']), new Date('2027-01-15T00:00:00Z')),
    );
    const order = (order_id: string, customer_id: string, at: string, amount: string, status = 'completed') => ({
      order_id,
      customer_id,
      ordered_at: new Date(at),
      amount,
      currency: 'EUR',
      status,
    });
    await t
      .db('orders')
      .insert([
        order('o-a1', 'a', '2026-02-01T00:00:00Z', '500.00', 'cancelled'),
        order('o-b1', 'b', '2026-02-01T00:00:00Z', '100.00'),
        order('o-c1', 'c', '2026-03-15T00:00:00Z', '50.00'),
        order('o-d1', 'd', '2026-06-01T00:00:00Z', '30.00'),
        order('o-a2', 'a', '2026-11-01T00:00:00Z', '40.00'),
      ]);
    await t.db('returns').insert([
      { return_id: 'r-c1', order_id: 'o-c1', customer_id: 'c', returned_at: new Date('2026-03-20T00:00:00Z'), amount: '20.00' },
      // A return of the cancelled order is not revenue given back.
      { return_id: 'r-a1', order_id: 'o-a1', customer_id: 'a', returned_at: new Date('2026-02-05T00:00:00Z'), amount: '500.00' },
    ]);
    await batch('orders', '2027-02-01T00:00:00Z');
    // Returns are known only to the end of 2026: run 1's CLV horizon (to 2027-01-01 06:00) has not matured yet.
    await batch('returns', '2026-12-31T00:00:00Z');
    server = await startServer(createApp({ db: createDb(urlFor(t.name, 'api')), logger: memoryLogger().logger }), {
      port: 0,
      host: '127.0.0.1',
    });
    for (const role of ['owner', 'viewer', 'finance', 'support', 'service'] as const)
      keys[role] = (await createApiKey(t.db, { name: `${role}-key`, role, createdBy: 'test' })).key;
  });
  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  it('gives each run its churn calibration once the churn horizon matured, and the date it will otherwise', async () => {
    const report = await runOutcomes(t.db);
    expect(report.outcomesKnownUpTo).to.equal('2026-12-31T00:00:00.000Z');
    expect(report.runs.map((r) => r.runId)).to.deep.equal(runIds);
    const [first, second, third] = report.runs;
    expect(first!.churn).to.include({ matured: true, customers: 4, horizonDays: 90 });
    expect(first!.churn.predicted).to.be.closeTo(0.5, 1e-6);
    expect(first!.churn.realised).to.equal(0.5);
    expect(first!.churn.brier).to.be.closeTo(0.13, 1e-6);
    expect(second!.churn.matured).to.equal(true);
    expect(second!.churn.realised).to.equal(0.75);
    expect(second!.churn.predicted).to.be.closeTo(0.65, 1e-6);
    expect(second!.churn.brier).to.be.closeTo(0.04, 1e-6);
    expect(third!.churn).to.include({ matured: false, maturesAt: '2027-04-15T00:00:00.000Z', realised: null, brier: null, customers: 4 });
    expect(third!.churn.predicted).to.be.closeTo(0.3, 1e-6);
    expect(first!.clv).to.include({ matured: false, maturesAt: '2027-01-01T06:00:00.000Z', realised: null, predicted: '360.00' });
  });

  it('gives CLV realised against predicted once both orders and returns are known past the horizon', async () => {
    await batch('returns', '2027-02-01T00:00:00Z');
    const [first, second] = (await runOutcomes(t.db)).runs;
    expect(first!.clv).to.include({ matured: true, customers: 4, predicted: '360.00', realised: '200.00' });
    expect(first!.clv.ratio).to.be.closeTo(200 / 360, 1e-9);
    expect(second!.clv).to.include({ matured: false, realised: null, ratio: null, predicted: '4.00' });
    expect((await runOutcomes(t.db, { limit: 1 })).runs.map((r) => r.runId)).to.deep.equal([runIds[2]]);
  });

  it('serves them at GET /monitoring/outcomes to the roles that read monitoring, with a checked query', async () => {
    const ok = await call(server.url, 'GET', '/monitoring/outcomes?runs=2', { key: keys.finance });
    expect(ok.status).to.equal(200);
    expect(ok.body.runs.map((r: { runId: number }) => r.runId)).to.deep.equal(runIds.slice(1));
    expect((await call(server.url, 'GET', '/monitoring/outcomes', { key: keys.viewer })).body.runs).to.have.length(3);
    expect((await call(server.url, 'GET', '/monitoring/outcomes', { key: keys.support })).status).to.equal(403);
    const bad = await call(server.url, 'GET', '/monitoring/outcomes?runs=0', { key: keys.owner });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal('runs');
    expect((await call(server.url, 'GET', '/monitoring/outcomes?run=2', { key: keys.owner })).status).to.equal(400);
  });

  it('exposes the newest matured run’s outcomes as Prometheus gauges', async () => {
    const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${keys.service}` } })).text();
    const gauge = (series: string) =>
      Number(
        text
          .split('\n')
          .find((line) => line.startsWith(`${series} `))
          ?.slice(series.length + 1),
      );
    // Churn: run 2 is the newest matured; CLV: run 1.
    expect(gauge('foresight_monitoring_churn_rate{source="realised"}')).to.equal(0.75);
    expect(gauge('foresight_monitoring_churn_rate{source="predicted"}')).to.be.closeTo(0.65, 1e-6);
    expect(gauge('foresight_monitoring_churn_brier')).to.be.closeTo(0.04, 1e-6);
    expect(gauge('foresight_monitoring_clv_net_revenue{source="realised"}')).to.equal(200);
    expect(gauge('foresight_monitoring_clv_net_revenue{source="predicted"}')).to.equal(360);
    expect(gauge('foresight_monitoring_clv_realised_ratio')).to.be.closeTo(200 / 360, 1e-9);
    expect(text).to.include(`foresight_monitoring_churn_outcome_as_of_seconds ${Date.parse('2026-10-01T00:00:00Z') / 1000}`);
    expect(text).to.include(`foresight_monitoring_clv_outcome_as_of_seconds ${Date.parse('2026-01-01T00:00:00Z') / 1000}`);
  });
});
