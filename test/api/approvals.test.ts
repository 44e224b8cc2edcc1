import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { expect } from 'chai';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { createApiKey } from '../../access/api-keys';
import { approvalWorkflowId, approvalWorkflowOf, singleActionBatch } from '../../approvals/action-approval';
import { WebhookReceiver } from '../../delivery/receiver';
import { DEFAULT_POLICY_KEY } from '../../policy/default-policy';
import type { Role } from '../../lib/roles';
import { actionApprovalStateQuery, actionApprovalWorkflow, decideActionUpdate } from '../../workflows/action-approval';
import { policyEvaluationWorkflow } from '../../workflows/policy-evaluation';
import { webhookDispatchWorkflow } from '../../workflows/webhook-dispatch';
import { until } from '../support/net';
import { activeQueuingPolicy, subscribedReceiver } from '../support/approval-queue';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { startTemporal, testSecretKey, testWorker } from '../support/temporal';
import type { ForesightWorker } from '../../cli/worker';

/**
 * The approval queue end to end, over real HTTP, Postgres and a Temporal dev server: a policy evaluation leaves
 * high-impact retention offers waiting; people approve, override or reject them through the API (Temporal Updates);
 * approved actions reach the verifying receiver as signed webhooks; an expired approval never delivers.
 */
describe('Approvals over HTTP reach the receiver; expiry, overrides and roles', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let t: TestDatabase;
  let worker: ForesightWorker;
  let running: Promise<void>;
  let dispatcher: WorkflowHandle | undefined;
  let server: RunningServer;
  let receiver: WebhookReceiver;
  const taskQueue = 'approvals-test';
  const keys = {} as Record<Role, string>;
  let pending: number[] = [];

  before(async () => {
    env = await startTemporal();
    t = await freshDatabase('approvals_api');
    worker = await testWorker(env, t.db, taskQueue);
    running = worker.run();
    dispatcher = await env.client.workflow.start(webhookDispatchWorkflow, {
      taskQueue,
      workflowId: 'webhook-dispatcher-approvals-test',
      args: [{ pollSeconds: 0.3, delivery: { retryScheduleSeconds: [0.3, 0.5, 1], jitter: 0.1, pausedRecheckSeconds: 0.3 } }],
    });
    const app = createApp({
      db: t.db,
      logger: memoryLogger().logger,
      temporal: { client: env.client, taskQueue },
      secretKey: testSecretKey,
    });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    for (const role of ['owner', 'marketing', 'support', 'admin'] as Role[])
      keys[role] = (await createApiKey(t.db, { name: `${role}-person`, role, createdBy: 'test' })).key;

    receiver = await subscribedReceiver(server.url, keys.admin);

    await activeQueuingPolicy(t.db);
    const evaluation = await env.client.workflow.execute(policyEvaluationWorkflow, {
      taskQueue,
      workflowId: 'evaluate-approvals-test',
      args: [{ policyKey: DEFAULT_POLICY_KEY, startedBy: 'test' }],
    });
    expect(evaluation.pending).to.be.at.least(5);
    const queue = await call(server.url, 'GET', '/approvals?type=retention_offer&minAmount=20', { key: keys.owner });
    expect(queue.status, queue.text).to.equal(200);
    pending = queue.body.approvals.map((a: { actionId: number }) => a.actionId);
    expect(pending).to.have.length(evaluation.pending);
    expect(queue.body.approvals[0]).to.include({
      actionType: 'retention_offer',
      incentiveAmount: '25.00',
      reason: 'impact_incentive',
      escalated: false,
    });
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
    await dispatcher?.terminate('tests done').catch(() => undefined);
    worker?.shutdown();
    await running;
    await t?.db.destroy();
    await env?.teardown();
  });

  const delivered = (actionId: number) =>
    receiver.processed.find((m) => (m.payload as { data: { actionId: number } }).data.actionId === actionId)?.payload as
      { type: string; data: { actionId: number; incentiveAmount: string; parameters: Record<string, unknown> } } | undefined;

  it('an approval made over HTTP reaches the receiver, which verifies its signature; the decision record holds all four parts', async () => {
    const actionId = pending[0]!;
    const res = await call(server.url, 'POST', `/approvals/${actionId}/approve`, { key: keys.owner, json: { reason: 'looks right' } });
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.include({ status: 'approved', actionId, release: { released: true } });
    await until('the approved action at the receiver', async () => delivered(actionId) !== undefined);
    expect(delivered(actionId)).to.deep.include({ type: 'action.approved' });
    expect(delivered(actionId)!.data.incentiveAmount).to.equal('25.00');
    // The receiver processes only requests whose signature it verified.
    expect(receiver.counts.refused).to.equal(0);

    await until('the delivery recorded', async () => (await t.db('webhook_deliveries').where({ status: 'delivered' })).length >= 1);
    const record = await call(server.url, 'GET', `/decisions/${actionId}`, { key: keys.support });
    expect(record.status, record.text).to.equal(200);
    const r = record.body;
    expect(r.scores.modelVersions).to.deep.equal({ churn: 'churn@1', clv: 'clv@1' });
    expect(r.scores.churnProbability).to.be.closeTo(0.8, 1e-6);
    expect(r.trace.rule).to.be.a('string').and.not.equal('');
    expect(r.trace.policy).to.include({ key: DEFAULT_POLICY_KEY, version: 1, approvedBy: 'bob' });
    expect(r.trace.conditions.length).to.be.above(0);
    expect(r.approval).to.include({ status: 'approved', decidedBy: 'owner-person', decidedRole: 'owner', reason: 'looks right' });
    expect(r.approval.before).to.deep.include({ status: 'pending_approval', incentiveAmount: '25.00' });
    expect(r.approval.after).to.deep.include({ status: 'approved', incentiveAmount: '25.00' });
    expect(r.delivery.deliveries).to.have.length(1);
    expect(r.delivery.deliveries[0].status).to.equal('delivered');
    expect(r.delivery.deliveries[0].attempts.at(-1)).to.include({ statusCode: 200, outcome: 'delivered' });
    const audit = await t.db('audit_log').where({ action: 'action.approved', target: `action:${actionId}` });
    expect(audit).to.have.length(1);
    expect(audit[0]).to.include({ actor: 'owner-person', role: 'owner' });
  });

  it('an override changes the delivered amount; above the policy cap it is refused', async () => {
    const actionId = pending[1]!;
    const tooMuch = await call(server.url, 'POST', `/approvals/${actionId}/override`, {
      key: keys.owner,
      json: { reason: 'generous', amount: '25.01' },
    });
    expect(tooMuch.status, tooMuch.text).to.equal(400);
    expect(tooMuch.body.error.field).to.equal('amount');
    const noReason = await call(server.url, 'POST', `/approvals/${actionId}/override`, { key: keys.owner, json: { amount: '10.00' } });
    expect(noReason.status).to.equal(400);
    const res = await call(server.url, 'POST', `/approvals/${actionId}/override`, {
      key: keys.owner,
      json: { reason: 'a smaller offer will do for this customer', amount: '10.00', channel: 'email' },
    });
    expect(res.status, res.text).to.equal(200);
    expect(res.body.status).to.equal('overridden');
    await until('the overridden action at the receiver', async () => delivered(actionId) !== undefined);
    expect(delivered(actionId)!.data.incentiveAmount).to.equal('10.00');
    expect(delivered(actionId)!.data.parameters).to.include({ incentive: '10.00', channel: 'email' });
    const [audit] = await t.db('audit_log').where({ action: 'action.overridden', target: `action:${actionId}` });
    expect(audit.details).to.deep.include({ reason: 'a smaller offer will do for this customer' });
    expect(audit.details.before).to.include({ incentiveAmount: '25.00' });
    expect(audit.details.after).to.include({ incentiveAmount: '10.00', channel: 'email' });
  });

  it('a non-owner cannot approve: 403 from the API, and the Update validator refuses too', async () => {
    const actionId = pending[2]!;
    const marketing = await call(server.url, 'POST', `/approvals/${actionId}/approve`, { key: keys.marketing, json: {} });
    expect(marketing.status, marketing.text).to.equal(403);
    const support = await call(server.url, 'POST', `/approvals/${actionId}/approve`, { key: keys.support, json: {} });
    expect(support.status).to.equal(403);
    // Straight to the workflow, around the API: the validator refuses, and nothing changes.
    const handle = env.client.workflow.getHandle((await approvalWorkflowOf(t.db, actionId))!);
    const refused = await handle
      .executeUpdate(decideActionUpdate, { args: [actionId, { decision: 'approve', by: 'mallory', role: 'marketing' }] })
      .catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(WorkflowUpdateFailedError);
    expect(String((refused as WorkflowUpdateFailedError).cause?.message)).to.match(/may not decide a retention_offer/);
    expect((await t.db('actions').where({ action_id: actionId }).first()).status).to.equal('pending_approval');
    const rejected = await call(server.url, 'POST', `/approvals/${actionId}/reject`, {
      key: keys.owner,
      json: { reason: 'customer complained' },
    });
    expect(rejected.status, rejected.text).to.equal(200);
    expect(rejected.body.status).to.equal('rejected');
    expect((await t.db('webhook_events').where({ dedupe_key: `action:${actionId}` })).length).to.equal(0);
  });

  it('the kill switch holds what is approved while it is on; lifting it releases and delivers them, except the suppressed', async () => {
    const [held, suppressed] = [pending[4]!, pending[5]!];
    const on = await call(server.url, 'POST', '/kill-switch', { key: keys.owner, json: { on: true, reason: 'campaign system incident' } });
    expect(on.status, on.text).to.equal(200);
    for (const actionId of [held, suppressed]) {
      const res = await call(server.url, 'POST', `/approvals/${actionId}/approve`, { key: keys.owner, json: {} });
      expect(res.status, res.text).to.equal(200);
      expect(res.body.release).to.deep.equal({ released: false, heldBy: 'kill_switch' });
    }
    const customerOf = async (actionId: number) => (await t.db('actions').where({ action_id: actionId }).first()).customer_id as string;
    const suppression = await call(server.url, 'POST', '/suppressions', {
      key: keys.owner,
      json: { scope: 'customer', value: await customerOf(suppressed), reason: 'asked not to be contacted' },
    });
    expect(suppression.status, suppression.text).to.equal(201);
    expect(await t.db('webhook_events').whereIn('dedupe_key', [`action:${held}`, `action:${suppressed}`])).to.deep.equal([]);

    const off = await call(server.url, 'POST', '/kill-switch', { key: keys.owner, json: { on: false, reason: 'incident over' } });
    expect(off.status, off.text).to.equal(200);
    expect(off.body).to.deep.equal({ on: false, released: 1, expired: 0, suppressed: 1 });
    await until('the held action at the receiver', async () => delivered(held) !== undefined);
    expect(delivered(held)!.data.actionId).to.equal(held);
    expect(receiver.counts.refused).to.equal(0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(delivered(suppressed)).to.equal(undefined);
    const heldBy = await t.db('actions').whereIn('action_id', [held, suppressed]).orderBy('action_id').pluck('held_by');
    expect(heldBy).to.deep.equal(held < suppressed ? [null, 'suppression'] : ['suppression', null]);
    const [audit] = await t.db('audit_log').where({ action: 'kill_switch.released' });
    expect(audit).to.include({ actor: 'owner-person', role: 'owner' });
    expect(audit.details).to.deep.equal({ reason: 'incident over', released: [held], expired: [], suppressed: [suppressed] });
  });

  it('an approval nobody decides is escalated after escalateAfterHours: flagged in the queue, audited, subscribers notified', async () => {
    const actionId = pending[3]!;
    const escalations = await subscribedReceiver(server.url, keys.admin, ['approval.escalated']);
    try {
      // The evaluation's batch escalates after the policy's 24 hours; this action gets a workflow of its own with the
      // shortest escalation a policy may set (0.001 hours, 3.6 s), and a day to expiry.
      await env.client.workflow.getHandle((await approvalWorkflowOf(t.db, actionId))!).terminate('test: shorter escalation');
      const { workflowId: _, ...batch } = await singleActionBatch(t.db, actionId);
      const handle = await env.client.workflow.start(actionApprovalWorkflow, {
        taskQueue,
        workflowId: approvalWorkflowId(actionId),
        args: [{ ...batch, escalateAfterHours: 0.001 }],
      });
      const notYet = await call(server.url, 'GET', '/approvals?escalated=true', { key: keys.owner });
      expect(notYet.body.approvals).to.deep.equal([]);
      await until('the escalation notice at the subscriber', async () => escalations.processed.length > 0, 30_000);
      expect(escalations.processed).to.have.length(1);
      expect(escalations.processed[0]!.payload).to.deep.include({ type: 'approval.escalated' });
      expect((escalations.processed[0]!.payload as { data: unknown }).data).to.deep.include({
        actionIds: [actionId],
        count: 1,
        afterHours: 0.001,
        approvalWorkflow: approvalWorkflowId(actionId),
      });
      const queue = await call(server.url, 'GET', '/approvals?escalated=true', { key: keys.owner });
      expect(queue.body.approvals.map((a: { actionId: number }) => a.actionId)).to.deep.equal([actionId]);
      expect(queue.body.approvals[0].escalatedAt).to.be.a('string');
      expect(await handle.query(actionApprovalStateQuery, actionId)).to.include({ status: 'waiting', escalated: true });
      const audit = await t.db('audit_log').where({ action: 'action.approval.escalated', target: `action:${actionId}` });
      expect(audit).to.have.length(1);
      expect(audit[0].details).to.deep.equal({ afterHours: 0.001 });
      // Escalated is still waiting: a person can decide it.
      expect((await t.db('actions').where({ action_id: actionId }).first()).status).to.equal('pending_approval');
    } finally {
      await escalations.close();
    }
  });

  it('an expired approval never delivers, and cannot be approved afterwards', async () => {
    const actionId = pending[3]!;
    // The evaluation started this action's approval (in a batch) with the policy's 14-day validity; replace it by one
    // of its own that expires in two seconds (the same action and row), and let it run out.
    await env.client.workflow.getHandle((await approvalWorkflowOf(t.db, actionId))!).terminate('test: shorter expiry');
    const { workflowId: _, ...batch } = await singleActionBatch(t.db, actionId);
    const result = await env.client.workflow.execute(actionApprovalWorkflow, {
      taskQueue,
      workflowId: approvalWorkflowId(actionId),
      args: [{ ...batch, expiresAt: new Date(Date.now() + 2000).toISOString() }],
    });
    expect(result).to.deep.equal({ expired: [actionId] });
    expect((await t.db('actions').where({ action_id: actionId }).first()).status).to.equal('expired');
    const late = await call(server.url, 'POST', `/approvals/${actionId}/approve`, { key: keys.owner, json: {} });
    expect(late.status, late.text).to.equal(409);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await t.db('webhook_events').where({ dedupe_key: `action:${actionId}` })).length).to.equal(0);
    expect(delivered(actionId)).to.equal(undefined);
    expect(await t.db('audit_log').where({ action: 'action.expired', target: `action:${actionId}` })).to.have.length(1);
    const record = await call(server.url, 'GET', `/decisions/${actionId}`, { key: keys.owner });
    expect(record.body.approval.status).to.equal('expired');
    expect(record.body.delivery.deliveries).to.deep.equal([]);
  });
});
