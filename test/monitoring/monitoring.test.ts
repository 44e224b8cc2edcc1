import { expect } from 'chai';
import type { Knex } from 'knex';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { breaches, monitoringFigures, runBins, type RunData } from '../../monitoring/figures';
import { runMonitoring } from '../../monitoring/run-monitoring';
import { DEFAULT_POLICY_KEY, seedDefaultPolicy } from '../../policy/default-policy';
import { evaluatePolicy } from '../../policy/evaluate-policy';
import { createDb } from '../../lib/db';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { insertFeatureSnapshot, insertScoredCustomers, registerMonitoredFeatures, type ScoredCustomer } from '../support/scored-customers';

const DAY_MS = 86_400_000;
const SEGMENTS = ['At risk', "Can't lose", 'Champions', 'Loyal', 'New', 'Hibernating'];

function population(): ScoredCustomer[] {
  return Array.from({ length: 120 }, (_, i) => ({
    id: `cust-${String(i).padStart(3, '0')}`,
    churn: ((i * 37) % 100) / 100,
    clv: `${50 + ((i * 53) % 900)}.00`,
    segment: SEGMENTS[i % SEGMENTS.length]!,
    priceSensitive: i % 5 === 0,
    pAlive: i % 11 === 0 ? 0.1 : 0.8,
  }));
}

describe('monitoring after scoring runs: drift alerts hold automatic approval until resolved', () => {
  let t: TestDatabase;
  // Monitoring and policy evaluation run as the workers do, the routes as the API does: each with its own privileges.
  let worker: Knex;
  let api: Knex;
  let server: RunningServer;
  const customers = population();
  const keys: Record<string, string> = {};
  let day = new Date('2026-10-01T00:00:00Z');
  let alertId = 0;

  /** The next weekly run: its snapshot (shifted or not), its scores, and monitoring a day after its as-of. */
  async function scoringRun(shift: number) {
    day = new Date(day.getTime() + 7 * DAY_MS);
    await insertFeatureSnapshot(t.db, day, customers, shift);
    const runId = await insertScoredCustomers(t.db, customers, day);
    return { runId, report: await runMonitoring(worker, runId, new Date(day.getTime() + DAY_MS)) };
  }
  const statuses = async (evaluationId: number) =>
    (await t
      .db('actions as a')
      .join('decisions as d', 'd.decision_id', 'a.decision_id')
      .where('d.evaluation_id', evaluationId)
      .select('a.status', 'a.status_reason')) as { status: string; status_reason: string | null }[];

  before(async () => {
    t = await freshDatabase('monitoring');
    await registerMonitoredFeatures(t.db);
    await seedDefaultPolicy(t.db, { name: 'olivia', role: 'owner' });
    worker = createDb(urlFor(t.name, 'worker'));
    api = createDb(urlFor(t.name, 'api'));
    server = await startServer(createApp({ db: api, logger: memoryLogger().logger }), { port: 0, host: '127.0.0.1' });
    for (const role of ['owner', 'ml', 'viewer', 'finance'] as const)
      keys[role] = (await createApiKey(t.db, { name: `${role}-key`, role, createdBy: 'test' })).key;
  });
  after(async () => {
    await server?.close();
    await Promise.all([worker?.destroy(), api?.destroy()]);
    await t?.db.destroy();
  });

  it('reports stable runs without an alert, and keeps each run’s figures', async () => {
    const first = await scoringRun(0);
    expect(first.report.figures.referenceRunId).to.equal(null);
    expect(first.report.breaches).to.deep.equal([]);
    const second = await scoringRun(0);
    expect(second.report.figures.referenceRunId).to.equal(first.runId);
    expect(second.report.figures.featurePsi.days_since_last_order).to.be.below(0.01);
    expect(second.report.figures.scorePsi).to.be.below(0.01);
    expect(second.report.figures.segmentChangeShare).to.equal(0);
    expect(second.report.figures.coverage).to.equal(1);
    expect(second.report.figures.confidenceMix).to.deep.equal({ high: 1 });
    expect(second.report.breaches).to.deep.equal([]);
    expect(await t.db('monitoring_reports').count<{ n: string }[]>('* as n')).to.deep.equal([{ n: '2' }]);
    expect(await t.db('alerts').where({ status: 'open' })).to.have.length(0);
  });

  it('opens one feature_drift alert, with its webhook event, when a feature’s distribution shifts', async () => {
    const drifted = await scoringRun(150);
    expect(drifted.report.figures.featurePsi.days_since_last_order).to.be.above(1);
    expect(drifted.report.figures.featurePsi.orders_90d).to.be.below(0.01);
    expect(drifted.report.breaches).to.deep.equal(['feature_drift']);
    expect(drifted.report.opened.map((a) => a.kind)).to.deep.equal(['feature_drift']);
    // Monitoring the same run again (a retried activity) replaces its report and opens no second alert.
    const again = await runMonitoring(worker, drifted.runId, new Date(day.getTime() + DAY_MS));
    expect(again.opened).to.have.length(0);
    // The previous run is compared through the bins it kept with its report; without them (a report written before
    // reports kept them) it is read again: the same figures either way.
    const referenceRunId = drifted.report.figures.referenceRunId!;
    const kept = (await t.db('monitoring_reports').where({ run_id: referenceRunId }).first('bins')) as { bins: { features: object } };
    expect(Object.keys(kept.bins.features)).to.include('days_since_last_order');
    await t.db('monitoring_reports').where({ run_id: referenceRunId }).update({ bins: null });
    const reread = await runMonitoring(worker, drifted.runId, new Date(day.getTime() + DAY_MS));
    expect(reread.figures).to.deep.equal(drifted.report.figures);
    await t
      .db('monitoring_reports')
      .where({ run_id: referenceRunId })
      .update({ bins: JSON.stringify(kept.bins) });
    const open = await t.db('alerts').where({ status: 'open' });
    expect(open.map((a) => a.kind)).to.deep.equal(['feature_drift']);
    expect(open[0].detail.features).to.have.key('days_since_last_order');
    alertId = Number(open[0].alert_id);
    expect(await t.db('webhook_events').where({ type: 'alert.opened' }).pluck('dedupe_key')).to.deep.equal([`alert:${alertId}:opened`]);

    const monitoring = await call(server.url, 'GET', '/monitoring', { key: keys.viewer });
    expect(monitoring.status).to.equal(200);
    expect(monitoring.body.report.runId).to.equal(drifted.runId);
    expect(monitoring.body.openAlerts.map((a: { alertId: number }) => a.alertId)).to.deep.equal([alertId]);
  });

  it('sends every action to approval while the alert is open', async () => {
    const evaluation = await evaluatePolicy(worker, DEFAULT_POLICY_KEY, { name: 'worker', role: null }, new Date(day.getTime() + DAY_MS));
    const acted = (await statuses(evaluation.evaluationId)).filter((a) => a.status !== 'holdout' && a.status !== 'suppressed');
    expect(acted.length).to.be.above(10);
    expect(acted.every((a) => a.status === 'pending_approval' && a.status_reason === 'impact_alert_open')).to.equal(true);
  });

  it('lets the owner, and only the owner, resolve the alert with a reason (audited); automatic approval resumes', async () => {
    const path = `/alerts/${alertId}/resolve`;
    expect((await call(server.url, 'POST', path, { key: keys.ml, json: { reason: 'checked' } })).status).to.equal(403);
    const noReason = await call(server.url, 'POST', path, { key: keys.owner, json: {} });
    expect(noReason.status).to.equal(400);
    expect(noReason.body.error.field).to.equal('reason');
    const resolved = await call(server.url, 'POST', path, {
      key: keys.owner,
      json: { reason: 'A new data source, checked with the shop' },
    });
    expect(resolved.status).to.equal(200);
    expect(resolved.body).to.include({
      status: 'resolved',
      resolvedBy: 'owner-key',
      resolvedReason: 'A new data source, checked with the shop',
    });
    expect((await call(server.url, 'POST', path, { key: keys.owner, json: { reason: 'again' } })).status).to.equal(409);
    const audit = await t.db('audit_log').where({ action: 'alert.resolved', target: `alert:${alertId}` });
    expect(audit.map((a) => [a.actor, a.role])).to.deep.equal([['owner-key', 'owner']]);
    expect(await t.db('webhook_events').where({ type: 'alert.resolved' }).pluck('dedupe_key')).to.deep.equal([`alert:${alertId}:resolved`]);

    // After the first evaluation's actions expired: the same customers again, now decided automatically where low-impact.
    const later = new Date(day.getTime() + 16 * DAY_MS);
    const evaluation = await evaluatePolicy(worker, DEFAULT_POLICY_KEY, { name: 'worker', role: null }, later);
    const reasons = (await statuses(evaluation.evaluationId)).map((a) => a.status_reason);
    expect(reasons).to.include('low_impact');
    expect(reasons).not.to.include('impact_alert_open');
  });

  it('resolves an alert by itself on the first run back under the threshold', async () => {
    const back = await scoringRun(0); // back from +150 days: a drift against the previous run again
    expect(back.report.opened.map((a) => a.kind)).to.deep.equal(['feature_drift']);
    const steady = await scoringRun(0);
    expect(steady.report.breaches).to.deep.equal([]);
    expect(steady.report.resolved.map((a) => [a.kind, a.resolvedBy])).to.deep.equal([['feature_drift', 'monitoring']]);
    expect(await t.db('alerts').where({ status: 'open' })).to.have.length(0);
  });

  it('exposes the latest figures and open alerts as Prometheus gauges', async () => {
    const { key } = await createApiKey(t.db, { name: 'prometheus', role: 'service', createdBy: 'test' });
    const metrics = await call(server.url, 'GET', '/metrics', { key });
    expect(metrics.status).to.equal(200);
    const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).text();
    expect(text).to.match(/foresight_monitoring_feature_psi\{feature="days_since_last_order"\} [0-9.e-]+/);
    expect(text).to.match(/foresight_monitoring_coverage 1\b/);
    expect(text).to.match(/foresight_monitoring_confidence_share\{confidence="high"\} 1\b/);
  });
});

describe('stale scores are measured against the newest data, not the wall clock', () => {
  const asOf = new Date('2026-06-30T00:00:00Z');
  const run: RunData = {
    runId: 1,
    asOf,
    matrix: null,
    churn: Float64Array.of(0.5),
    churnModelId: 1,
    confidence: new Map(),
    profiles: 1,
  };
  const kinds = (newestDataAt: Date | null, now: Date) =>
    breaches(monitoringFigures({ current: run, reference: null, snapshotCustomers: 1, sources: [], newestDataAt, now })).map((b) => b.kind);

  it('a run as of the newest data is fresh however long ago that was (a demo shop, a backfill)', () => {
    expect(kinds(new Date(asOf.getTime() + DAY_MS), new Date(asOf.getTime() + 200 * DAY_MS))).to.deep.equal([]);
  });

  it('a run left behind by newer data is stale; without any data, its age at monitoring counts', () => {
    expect(kinds(new Date(asOf.getTime() + 10 * DAY_MS), new Date(asOf.getTime() + 10 * DAY_MS))).to.deep.equal(['stale_scores']);
    expect(kinds(null, new Date(asOf.getTime() + 10 * DAY_MS))).to.deep.equal(['stale_scores']);
    expect(kinds(null, new Date(asOf.getTime() + DAY_MS))).to.deep.equal([]);
  });
});

describe('score drift compares runs of the same churn model only', () => {
  const run = (runId: number, churnModelId: number, churn: number[]): RunData => ({
    runId,
    asOf: new Date('2026-06-30T00:00:00Z'),
    matrix: null,
    churn: Float64Array.from(churn),
    churnModelId,
    confidence: new Map(),
    profiles: churn.length,
  });
  const low = Array.from({ length: 500 }, (_, i) => 0.05 + (0.2 * i) / 500);
  const high = low.map((p) => p + 0.6);
  const figures = (current: RunData, reference: RunData) =>
    monitoringFigures({
      current,
      // The previous run as monitoring reads it: its kept bins; no segments in these runs.
      reference: { runId: reference.runId, churnModelId: reference.churnModelId, bins: runBins(reference), segmentPairs: [] },
      snapshotCustomers: 500,
      sources: [],
      newestDataAt: current.asOf,
      now: current.asOf,
    });

  it('raises score_drift when one model’s scores shift between runs', () => {
    const f = figures(run(2, 7, high), run(1, 7, low));
    expect(f.scorePsi).to.be.above(1);
    expect(breaches(f).map((b) => b.kind)).to.include('score_drift');
  });

  it('does not call a promoted model’s different scores drift (the shadow report measured that shift)', () => {
    const f = figures(run(2, 8, high), run(1, 7, low));
    expect(f.scorePsi).to.equal(null);
    expect(breaches(f).map((b) => b.kind)).to.not.include('score_drift');
  });
});
