import { expect } from 'chai';
import { decideAndRelease, evaluateAndRelease } from '../../delivery/action-release';
import { changeKillSwitch } from '../../delivery/kill-switch-release';
import { DEFAULT_POLICY_KEY } from '../../policy/default-policy';
import { addSuppression } from '../../policy/suppressions';
import { activeQueuingPolicy } from '../support/approval-queue';
import { freshDatabase, type TestDatabase } from '../support/db';

/**
 * Releasing approved actions (real Postgres): the event each released action gets, and the kill switch's rule — what
 * it held is released when it is lifted, unless the action expired or came under a suppression meanwhile.
 */
describe('action release and the kill switch', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  const alice = { name: 'alice', role: 'owner' as const };
  const approve = { decision: 'approve' as const, by: 'bob', role: 'owner' as const };
  let queued: number[] = [];

  before(async () => {
    t = await freshDatabase('action_release');
    await activeQueuingPolicy(t.db);
    const evaluation = await evaluateAndRelease(t.db, DEFAULT_POLICY_KEY, { name: 'test', role: null });
    queued = evaluation.approvals.flatMap((b) => b.actions.map((a) => a.actionId));
  });
  after(async () => t?.db.destroy());

  it('opens the queued actions in batches, each approval row naming its workflow', async () => {
    expect(queued).to.have.length(6);
    const rows = await t.db('action_approvals').whereIn('action_id', queued).orderBy('action_id');
    expect(rows.map((r) => [Number(r.action_id), r.status])).to.deep.equal(queued.map((id) => [id, 'waiting']));
    expect(new Set(rows.map((r) => r.workflow_id)).size).to.equal(1);
    expect(rows[0].workflow_id).to.match(/^approval-\d+-1$/);
  });

  it('a released action gets one action.approved event holding the action as approved', async () => {
    const actionId = queued[5]!;
    const outcome = await decideAndRelease(t.db, actionId, approve);
    expect(outcome.release).to.include({ released: true });
    const action = await t.db('actions').where({ action_id: actionId }).first();
    const events = await t.db('webhook_events').where({ dedupe_key: `action:${actionId}` });
    expect(events).to.have.length(1);
    expect(events[0].type).to.equal('action.approved');
    expect(events[0].data).to.deep.equal({
      actionId,
      customerId: action.customer_id,
      policyKey: DEFAULT_POLICY_KEY,
      actionType: 'retention_offer',
      segment: 'At risk',
      campaign: action.campaign,
      incentiveAmount: '25.00',
      expectedValue: action.expected_value,
      parameters: action.parameters,
      approval: 'approved',
      expiresAt: action.expires_at.toISOString(),
    });
    // Deciding again answers the same outcome and writes no second event.
    expect((await decideAndRelease(t.db, actionId, approve)).release).to.deep.include({ released: true, eventId: events[0].event_id });
    expect(await t.db('webhook_events').where({ dedupe_key: `action:${actionId}` })).to.have.length(1);
  });

  it('lifting the kill switch releases what it held, except what expired or came under a suppression meanwhile', async () => {
    const [expiring, suppressed, released] = queued;
    await changeKillSwitch(t.db, true, alice, 'campaign system incident');
    for (const id of [expiring!, suppressed!, released!])
      expect((await decideAndRelease(t.db, id, approve)).release).to.deep.equal({ released: false, heldBy: 'kill_switch' });
    expect(await t.db('actions').whereIn('action_id', queued.slice(0, 3)).pluck('held_by')).to.deep.equal([
      'kill_switch',
      'kill_switch',
      'kill_switch',
    ]);
    // While held, the first action's validity runs out and the second's customer asks not to be contacted.
    await t
      .db('actions')
      .where({ action_id: expiring })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const customer = (await t.db('actions').where({ action_id: suppressed }).first()).customer_id;
    await addSuppression(t.db, { scope: 'customer', value: customer, reason: 'asked not to be contacted', expiresAt: null }, alice);

    const lifted = await changeKillSwitch(t.db, false, alice, 'incident over');
    expect(lifted).to.deep.equal({ on: false, released: [released], expired: [expiring], suppressed: [suppressed] });
    const events = await t.db('webhook_events').whereIn(
      'dedupe_key',
      queued.slice(0, 3).map((id) => `action:${id}`),
    );
    expect(events.map((e) => e.dedupe_key)).to.deep.equal([`action:${released}`]);
    const actions = await t.db('actions').whereIn('action_id', queued.slice(0, 3)).orderBy('action_id');
    expect(actions.map((a) => [a.status, a.held_by])).to.deep.equal([
      ['expired', 'kill_switch'],
      ['approved', 'suppression'],
      ['approved', null],
    ]);
    expect(actions[0].status_reason).to.equal('expired while held by the kill switch');
    const audit = await t.db('audit_log').whereIn('action', ['kill_switch.on', 'kill_switch.off', 'kill_switch.released']).orderBy('id');
    expect(audit.map((a) => a.action)).to.deep.equal(['kill_switch.on', 'kill_switch.off', 'kill_switch.released']);
    expect(audit[2].details).to.deep.equal({
      reason: 'incident over',
      released: [released],
      expired: [expiring],
      suppressed: [suppressed],
    });

    // Lifting it again releases nothing more, and a suppression is not the kill switch's to lift.
    expect(await changeKillSwitch(t.db, false, alice, 'still over')).to.deep.equal({
      on: false,
      released: [],
      expired: [],
      suppressed: [],
    });
    expect(await t.db('webhook_events').where({ dedupe_key: `action:${suppressed}` })).to.deep.equal([]);
  });
});
