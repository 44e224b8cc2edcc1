import { expect } from 'chai';
import { ConflictError } from '../../lib/errors';
import { getModel, registerModel } from '../../registry/model-registry';
import { changeModelStatus } from '../../registry/model-status';
import { rollbackChampion } from '../../registry/rollback';
import { freshDatabase, type TestDatabase } from '../support/db';

describe('concurrent promotions and rollback', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('concurrent_promotion');
  });
  after(() => t.db.destroy());

  const by = (name: string) => ({ name, role: 'ml' as const, via: 'api' as const });
  const champions = async (kind: string) =>
    (await t.db('model_registry').where({ kind, status: 'champion' }).select('model_id')).map((r) => Number(r.model_id));

  /**
   * Two promotions of one kind started together. Both are held at the per-kind lock (taken here first, on another
   * connection) until both have read the champion, so the race is the worst case on every run.
   */
  async function raceTwo(kind: string) {
    const a = await registerModel(t.db, { kind, artifact: {}, createdBy: 'trainer' });
    const b = await registerModel(t.db, { kind, artifact: {}, createdBy: 'trainer' });
    const holder = await t.db.client.acquireConnection();
    try {
      await holder.query('begin');
      await holder.query('select pg_advisory_xact_lock(hashtext($1))', [`champion:${kind}`]);
      const race = Promise.allSettled([
        changeModelStatus(t.db, { modelId: a.modelId, to: 'champion', actor: by('ann'), reason: 'better AUC' }),
        changeModelStatus(t.db, { modelId: b.modelId, to: 'champion', actor: by('bob'), reason: 'better Brier' }),
      ]);
      // Wait (up to 2 s) until both promotions wait on the lock, then let them go.
      for (let waiting = 0, tries = 0; waiting < 2 && tries < 40; tries++) {
        await new Promise((r) => setTimeout(r, 50));
        const rows = await t.db.raw(`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`);
        waiting = rows.rows[0].n;
      }
      await holder.query('commit');
      return { ids: [a.modelId, b.modelId], outcomes: await race };
    } finally {
      await t.db.client.releaseConnection(holder);
    }
  }

  for (const withChampion of [false, true]) {
    it(`two simultaneous promotions ${withChampion ? 'replacing a champion' : 'on an empty kind'}: exactly one champion, a 409 for the loser`, async () => {
      const kind = withChampion ? 'clv' : 'churn';
      if (withChampion) {
        const old = await registerModel(t.db, { kind, artifact: {}, createdBy: 'trainer' });
        await changeModelStatus(t.db, { modelId: old.modelId, to: 'champion', actor: by('cy'), reason: 'first' });
      }
      const { ids, outcomes } = await raceTwo(kind);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).to.have.length(1);
      expect(lost).to.have.length(1);
      expect(lost[0]!.reason).to.be.instanceOf(ConflictError);
      expect((lost[0]!.reason as ConflictError).httpStatus).to.equal(409);
      const winner = (won[0] as PromiseFulfilledResult<{ modelId: number }>).value.modelId;
      expect(await champions(kind)).to.deep.equal([winner]);
      const loser = ids.find((id) => id !== winner)!;
      expect((await getModel(t.db, loser)).status).to.equal('candidate');
      expect(await t.db('audit_log').where({ target: `model:${loser}` })).to.have.length(0);
    });
  }

  it('rollback restores the previous champion, retiring the current one, audited with who and why', async () => {
    const first = await registerModel(t.db, { kind: 'segments', artifact: {}, createdBy: 'trainer' });
    const second = await registerModel(t.db, { kind: 'segments', artifact: {}, createdBy: 'trainer' });
    await expectNotFound(rollbackChampion(t.db, { kind: 'segments', actor: by('dee'), reason: 'nothing to restore' }));
    await changeModelStatus(t.db, { modelId: first.modelId, to: 'champion', actor: by('ann'), reason: 'first' });
    await changeModelStatus(t.db, { modelId: second.modelId, to: 'champion', actor: by('ann'), reason: 'better' });
    const { restored, retired } = await rollbackChampion(t.db, {
      kind: 'segments',
      actor: { name: 'dee', role: null, via: 'cli' },
      reason: 'v2 splits Loyal badly',
    });
    expect([restored.modelId, restored.status, retired]).to.deep.equal([first.modelId, 'champion', second.modelId]);
    expect(await champions('segments')).to.deep.equal([first.modelId]);
    const audit = await t
      .db('audit_log')
      .where({ target: `model:${first.modelId}` })
      .orderBy('id');
    expect(audit.map((a) => [a.actor, a.details.from, a.details.to, a.details.reason, a.details.retiredChampion])).to.deep.equal([
      ['ann', 'candidate', 'champion', 'first', undefined],
      ['dee', 'retired', 'champion', 'rollback: v2 splits Loyal badly', second.modelId],
    ]);
  });

  async function expectNotFound(p: Promise<unknown>) {
    try {
      await p;
      expect.fail('expected a refusal');
    } catch (err) {
      expect((err as Error).name).to.equal('NotFoundError');
    }
  }
});
