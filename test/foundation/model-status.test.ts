import { expect } from 'chai';
import { modelHistory, getModel, registerModel } from '../../registry/model-registry';
import { changeModelStatus } from '../../registry/model-status';
import { ValidationError } from '../../lib/errors';
import { cliStdout } from '../support/cli';
import { freshDatabase, type TestDatabase } from '../support/db';

describe('model status changes', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('model_status');
  });
  after(() => t.db.destroy());

  const auditOf = (modelId: number) =>
    t
      .db('audit_log')
      .where({ target: `model:${modelId}` })
      .orderBy('id');

  it('audits `foresight models promote` with the operator, no role, and the reason', async function () {
    this.timeout(60_000);
    const old = await registerModel(t.db, { kind: 'churn', artifact: {}, createdBy: 'trainer' });
    const model = await registerModel(t.db, { kind: 'churn', artifact: {}, createdBy: 'trainer' });
    cliStdout(['models', 'promote', String(old.modelId), '--to', 'champion', '--by', 'ann', '--reason', 'first one'], t.url);
    const out = cliStdout(['models', 'promote', String(model.modelId), '--to', 'champion', '--by', 'bob', '--reason', 'better AUC'], t.url);
    expect(out).to.contain(`Model ${model.modelId} (churn v2) is now champion.`);

    const audit = await auditOf(model.modelId);
    expect(audit.map((a) => [a.actor, a.role, a.action, a.ip])).to.deep.equal([['bob', null, 'model.status', null]]);
    expect(audit[0].details).to.deep.equal({
      kind: 'churn',
      version: 2,
      from: 'candidate',
      to: 'champion',
      reason: 'better AUC',
      via: 'cli',
      retiredChampion: old.modelId,
    });
    expect((await auditOf(old.modelId)).map((a) => [a.actor, a.details.to])).to.deep.equal([['ann', 'champion']]);
    expect((await getModel(t.db, old.modelId)).status).to.equal('retired');
  });

  it('refuses a change without a reason, from the CLI too', async function () {
    this.timeout(60_000);
    const model = await registerModel(t.db, { kind: 'clv', artifact: {}, createdBy: 'trainer' });
    try {
      await changeModelStatus(t.db, { modelId: model.modelId, to: 'shadow', actor: { name: 'x', role: null, via: 'cli' }, reason: '  ' });
      expect.fail('a blank reason must be refused');
    } catch (err) {
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).field).to.equal('reason');
    }
    try {
      cliStdout(['models', 'promote', String(model.modelId), '--to', 'shadow', '--by', 'ann'], t.url);
      expect.fail('the CLI must ask for --reason');
    } catch (err) {
      expect((err as { stderr: string }).stderr).to.contain('--reason');
    }
    expect((await getModel(t.db, model.modelId)).status).to.equal('candidate');
    expect(await auditOf(model.modelId)).to.have.length(0);
  });

  it('rolls the status change back when the audit row cannot be written', async () => {
    const champion = await registerModel(t.db, { kind: 'segments', artifact: {}, createdBy: 'trainer' });
    const challenger = await registerModel(t.db, { kind: 'segments', artifact: {}, createdBy: 'trainer' });
    const by = { name: 'owner', role: 'owner', keyId: 7, ip: '10.0.0.1', via: 'api' } as const;
    await changeModelStatus(t.db, { modelId: champion.modelId, to: 'champion', actor: by, reason: 'first' });

    // A real failure of the audit insert: the database refuses it.
    await t.db.raw(`create function refuse_audit() returns trigger language plpgsql as $$
                    begin raise exception 'audit storage unavailable'; end $$`);
    await t.db.raw('create trigger refuse_audit before insert on audit_log for each row execute function refuse_audit()');
    try {
      await changeModelStatus(t.db, { modelId: challenger.modelId, to: 'champion', actor: by, reason: 'better' });
      expect.fail('the change must fail with its audit row');
    } catch (err) {
      expect(String(err)).to.contain('audit storage unavailable');
    } finally {
      await t.db.raw('drop trigger refuse_audit on audit_log');
      await t.db.raw('drop function refuse_audit()');
    }
    expect((await getModel(t.db, champion.modelId)).status).to.equal('champion');
    expect((await getModel(t.db, challenger.modelId)).status).to.equal('candidate');
    expect((await modelHistory(t.db, champion.modelId)).map((e) => e.to_status)).to.deep.equal(['candidate', 'champion']);
    expect((await modelHistory(t.db, challenger.modelId)).map((e) => e.to_status)).to.deep.equal(['candidate']);
    const [audit] = await auditOf(champion.modelId);
    expect([audit.actor, audit.role, audit.ip, audit.details.keyId, audit.details.via]).to.deep.equal([
      'owner',
      'owner',
      '10.0.0.1',
      7,
      'api',
    ]);
  });
});
