import { expect } from 'chai';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import type { Role } from '../../lib/roles';
import { registerModel } from '../../registry/model-registry';
import { changeModelStatus } from '../../registry/model-status';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';

/**
 * The Models page's API without Temporal: the shadow report (null until there is one), the promotion decision (ML only;
 * 503 without Temporal, since it is the workflow that carries it out) and the rollback (ML only), each validating its
 * input with an error naming the field. The console test drives the same routes with a Temporal server.
 */
describe('API: shadow report, promotion decision and rollback of models', () => {
  let t: TestDatabase;
  let server: RunningServer;
  const keys = {} as Record<Role, string>;

  before(async () => {
    t = await freshDatabase('api_models_lifecycle');
    server = await startServer(createApp({ db: t.db, logger: memoryLogger().logger, similarPerSecond: 1000 }), {
      port: 0,
      host: '127.0.0.1',
    });
    for (const role of ['ml', 'owner', 'viewer'] as Role[])
      keys[role] = (await createApiKey(t.db, { name: `${role}-key`, role, createdBy: 'test' })).key;
  });

  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  const post = (path: string, role: Role, json: unknown) => call(server.url, 'POST', path, { key: keys[role], json });
  const statusOf = async (id: number) => (await t.db('model_registry').where({ model_id: id }).first('status')).status as string;

  it('answers a null shadow report for a model without one, 404 for an unknown model, 403 for a viewer', async () => {
    const model = await registerModel(t.db, { kind: 'churn', artifact: { trees: [] }, createdBy: 'test' });
    const report = await call(server.url, 'GET', `/models/${model.modelId}/shadow-report`, { key: keys.owner });
    expect(report.status).to.equal(200);
    expect(report.body).to.deep.equal({ shadowReport: null });
    expect((await call(server.url, 'GET', '/models/999999/shadow-report', { key: keys.ml })).status).to.equal(404);
    expect((await call(server.url, 'GET', `/models/${model.modelId}/shadow-report`, { key: keys.viewer })).status).to.equal(403);
  });

  it('refuses a promotion decision to anyone but ML, validates it, and answers 503 without Temporal', async () => {
    const candidate = await registerModel(t.db, { kind: 'clv', artifact: {}, createdBy: 'test' });
    const path = `/models/${candidate.modelId}/promotion`;
    expect((await post(path, 'owner', { decision: 'approve', reason: 'x' })).status).to.equal(403);
    const bad = await post(path, 'ml', { decision: 'maybe', reason: 'x' });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal('decision');
    expect((await post(path, 'ml', { decision: 'approve' })).body.error.field).to.equal('reason');
    const noTemporal = await post(path, 'ml', { decision: 'approve', reason: 'better lift' });
    expect(noTemporal.status).to.equal(503);
    expect(noTemporal.body.error.message).to.contain('Temporal');
    expect(await statusOf(candidate.modelId)).to.equal('candidate');
  });

  it('rolls a kind back to its previous champion for ML only, audited; refuses an unknown kind and a kind with none', async () => {
    const actor = { name: 'test', role: null, via: 'cli' as const };
    const first = await registerModel(t.db, { kind: 'segments', artifact: {}, createdBy: 'test' });
    const second = await registerModel(t.db, { kind: 'segments', artifact: {}, createdBy: 'test' });
    await changeModelStatus(t.db, { modelId: first.modelId, to: 'champion', actor, reason: 'first' });
    expect((await post('/models/segments/rollback', 'ml', { reason: 'nothing to restore yet' })).status).to.equal(404);
    await changeModelStatus(t.db, { modelId: second.modelId, to: 'champion', actor, reason: 'second' });

    expect((await post('/models/segments/rollback', 'owner', { reason: 'x' })).status).to.equal(403);
    expect((await post('/models/segments/rollback', 'viewer', { reason: 'x' })).status).to.equal(403);
    const badKind = await post('/models/gold/rollback', 'ml', { reason: 'x' });
    expect(badKind.status).to.equal(400);
    expect(badKind.body.error.field).to.equal('kind');
    expect((await post('/models/segments/rollback', 'ml', { reason: ' ' })).body.error.field).to.equal('reason');
    expect(await statusOf(second.modelId)).to.equal('champion');

    const rolled = await post('/models/segments/rollback', 'ml', { reason: 'clusters drifted' });
    expect(rolled.status).to.equal(200);
    expect(rolled.body.restored).to.include({ modelId: first.modelId, status: 'champion' });
    expect(rolled.body.restored).not.to.have.property('artifact');
    expect(rolled.body.retired).to.equal(second.modelId);
    expect(await statusOf(second.modelId)).to.equal('retired');
    const event = await t.db('model_registry_events').where({ model_id: first.modelId }).orderBy('event_id', 'desc').first();
    expect(event).to.include({ reason: 'rollback: clusters drifted', actor: 'ml-key' });
  });
});
