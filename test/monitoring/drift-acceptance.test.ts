import { expect } from 'chai';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Knex } from 'knex';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { DRIFT_DAYS } from '../../datagen/generate';
import { createDb } from '../../lib/db';
import { MS_PER_DAY } from '../../lib/horizons';
import { DEFAULT_POLICY_KEY, seedDefaultPolicy } from '../../policy/default-policy';
import { evaluatePolicy } from '../../policy/evaluate-policy';
import { trainModels } from '../../training/train-models';
import { pipelineWorkflow } from '../../workflows';
import { urlFor } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { ingestedShop, type IngestedShop } from '../support/shop';
import { startTemporal, testWorker } from '../support/temporal';

/**
 * Acceptance (issue 11): a shop generated with `--drift page_views` (sessions record five times their page views over
 * its last DRIFT_DAYS)
 * goes through the daily pipeline as a user's would. The runs before the drift raise no drift alert; the run after it
 * does, every action then waits for a person, and once an owner resolves the alert automatic approval resumes.
 */
describe('drift injected into the shop: the next scoring run alerts and holds automatic approval until an owner resolves it', function () {
  this.timeout(900_000);
  let shop: IngestedShop;
  let env: TestWorkflowEnvironment;
  let workerDb: Knex;
  let server: RunningServer;
  const keys: Record<string, string> = {};
  const taskQueue = `drift-${process.pid}`;
  const day = (offsetDays: number) => new Date(shop.exportInstant.getTime() + offsetDays * MS_PER_DAY);
  // A worker runs once: one per pipeline, as a restarted worker process would.
  const pipeline = async (asOf: Date) =>
    (await testWorker(env, workerDb, taskQueue)).runUntil(
      env.client.workflow.execute(pipelineWorkflow, {
        taskQueue,
        workflowId: `drift-pipeline-${asOf.toISOString().slice(0, 10)}`,
        args: [{ asOf: asOf.toISOString() }],
      }),
    );
  const actions = async (evaluationId: number) =>
    (await shop
      .db('actions as a')
      .join('decisions as d', 'd.decision_id', 'a.decision_id')
      .where('d.evaluation_id', evaluationId)
      .whereNotIn('a.status', ['holdout', 'suppressed'])
      .select('a.status', 'a.status_reason')) as { status: string; status_reason: string | null }[];

  before(async () => {
    [shop, env] = await Promise.all([ingestedShop(2000, 913, { drift: 'page_views' }), startTemporal()]);
    // Models from before the drift, as a shop would have them.
    await trainModels(shop.db, { asOf: day(-2 * DRIFT_DAYS), createdBy: 'test', promote: true });
    await seedDefaultPolicy(shop.db, { name: 'olivia', role: 'owner' });
    workerDb = createDb(urlFor(shop.name, 'worker'));
    server = await startServer(createApp({ db: createDb(urlFor(shop.name, 'api')), logger: memoryLogger().logger }), {
      port: 0,
      host: '127.0.0.1',
    });
    for (const role of ['owner', 'viewer'] as const)
      keys[role] = (await createApiKey(shop.db, { name: `${role}-key`, role, createdBy: 'test' })).key;
  });
  after(async () => {
    await server?.close();
    await workerDb?.destroy();
    await env?.teardown();
  });

  it('raises no drift alert between two runs before the drift', async () => {
    await pipeline(day(-2 * DRIFT_DAYS));
    const before = await pipeline(day(-DRIFT_DAYS));
    expect(before.scoring.status).to.equal('done');
    const monitoring = before.scoring.status === 'done' ? before.scoring.result.monitoring : undefined;
    expect(monitoring?.breaches).to.not.include('feature_drift');
    expect(await shop.db('alerts').where({ status: 'open', kind: 'feature_drift' })).to.have.length(0);
  });

  it('opens a feature_drift alert naming page_views_30d on the first run after the drift', async () => {
    const after = await pipeline(day(0));
    expect(after.scoring.status).to.equal('done');
    expect(after.scoring.status === 'done' && after.scoring.result.monitoring.breaches).to.include('feature_drift');
    const alert = await shop.db('alerts').where({ status: 'open', kind: 'feature_drift' }).first();
    expect(Object.keys(alert.detail.features)).to.include('page_views_30d');
    const monitoring = await call(server.url, 'GET', '/monitoring', { key: keys.viewer });
    expect(monitoring.body.openAlerts.map((a: { kind: string }) => a.kind)).to.include('feature_drift');
  });

  it('sends every action to the approval queue while the alert is open', async () => {
    const evaluation = await evaluatePolicy(workerDb, DEFAULT_POLICY_KEY, { name: 'worker', role: null }, day(1));
    const acted = await actions(evaluation.evaluationId);
    expect(acted.length).to.be.above(10);
    // Every action waits for a person: for the open alert, or for a reason that holds it anyway (low confidence).
    expect([...new Set(acted.map((a) => a.status))]).to.deep.equal(['pending_approval']);
    const reasons = acted.map((a) => a.status_reason);
    expect(reasons).to.include('impact_alert_open');
    expect(reasons).to.not.include('low_impact');
  });

  it('lets only an owner resolve the alerts; then automatic approval resumes', async () => {
    const open = (await shop.db('alerts').where({ status: 'open' }).pluck('alert_id')).map(Number);
    expect((await call(server.url, 'POST', `/alerts/${open[0]}/resolve`, { key: keys.viewer, json: { reason: 'no' } })).status).to.equal(
      403,
    );
    for (const id of open) {
      const resolved = await call(server.url, 'POST', `/alerts/${id}/resolve`, {
        key: keys.owner,
        json: { reason: 'A tracking change counts page views differently; confirmed with the shop' },
      });
      expect(resolved.status, resolved.text).to.equal(200);
    }
    // After the first evaluation's actions expired (actionValidityDays 14): the same customers, decided again.
    const evaluation = await evaluatePolicy(workerDb, DEFAULT_POLICY_KEY, { name: 'worker', role: null }, day(16));
    const reasons = (await actions(evaluation.evaluationId)).map((a) => a.status_reason);
    expect(reasons).to.include('low_impact');
    expect(reasons).to.not.include('impact_alert_open');
    expect((await actions(evaluation.evaluationId)).filter((a) => a.status === 'auto_approved').length).to.be.above(0);
  });
});
