import { expect } from 'chai';
import { getChampion, listModels, modelHistory, registerModel, type ModelStatus } from '../../registry/model-registry';
import { changeModelStatus } from '../../registry/model-status';
import { ConflictError } from '../../lib/errors';
import { freshDatabase, type TestDatabase } from '../support/db';

describe('model registry', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('registry');
  });
  after(() => t.db.destroy());
  const setStatus = (modelId: number, to: ModelStatus, name: string, reason = 'test') =>
    changeModelStatus(t.db, { modelId, to, actor: { name, role: null, via: 'cli' }, reason });

  it('versions models per kind, promotes one champion at a time, and keeps history', async () => {
    const a = await registerModel(t.db, {
      kind: 'churn',
      artifact: { model: 'a' },
      parameters: { depth: 4 },
      featureVersion: '1',
      createdBy: 'ml@team',
    });
    const b = await registerModel(t.db, { kind: 'churn', artifact: { model: 'b' }, createdBy: 'ml@team', metrics: { auc: 0.8 } });
    const other = await registerModel(t.db, { kind: 'clv', artifact: { p: 1 }, createdBy: 'ml@team' });
    expect([a.version, b.version, other.version]).to.deep.equal([1, 2, 1]);
    expect(a.status).to.equal('candidate');

    await setStatus(a.modelId, 'champion', 'owner@shop');
    await setStatus(b.modelId, 'shadow', 'ml@team');
    const promoted = await setStatus(b.modelId, 'champion', 'owner@shop', 'better AUC in shadow');
    expect(promoted).to.include({ status: 'champion', promotedBy: 'owner@shop' });
    expect((await getChampion(t.db, 'churn'))!.modelId).to.equal(b.modelId);
    expect((await listModels(t.db, { kind: 'churn' })).map((m) => m.status)).to.deep.equal(['champion', 'retired']);
    expect((await modelHistory(t.db, a.modelId)).map((e) => e.to_status)).to.deep.equal(['candidate', 'champion', 'retired']);

    try {
      // Only a rollback brings a retired model back, and only as champion (test/foundation/concurrent-promotion.test.ts).
      await setStatus(a.modelId, 'shadow', 'owner@shop');
      expect.fail('a retired model cannot go back to shadow');
    } catch (err) {
      expect(err).to.be.instanceOf(ConflictError);
    }
    try {
      await t.db('model_registry').where({ model_id: a.modelId }).delete();
      expect.fail('deleting must be refused');
    } catch (err) {
      expect(String(err)).to.contain('never deleted');
    }
    expect(Number((await t.db('model_registry').count({ n: '*' }))[0]!.n)).to.equal(3);
  });
});
