import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import path from 'node:path';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { WebhookReceiver } from '../../delivery/receiver';
import { projectRoot } from '../../lib/project-root';
import type { Role } from '../../lib/roles';
import { DEFAULT_PARAMETERS, DEFAULT_POLICY_KEY, DEFAULT_RULES } from '../../policy/default-policy';
import { createDraft } from '../../policy/lifecycle';
import { policyEvaluationWorkflow } from '../../workflows/policy-evaluation';
import { webhookDispatchWorkflow } from '../../workflows/webhook-dispatch';
import { launchChromium, screenshot, signedIn } from '../support/browser';
import { activeQueuingPolicy, subscribedReceiver } from '../support/approval-queue';
import { freshDatabase, type TestDatabase } from '../support/db';
import { memoryLogger } from '../support/http';
import { startTemporal, testSecretKey, testWorker } from '../support/temporal';
import type { ForesightWorker } from '../../cli/worker';

const CONSOLE_DIR = path.join(projectRoot, 'console', 'dist');

/**
 * The console's human-in-the-loop pages in headless Chromium against the real API, Postgres and a Temporal dev
 * server with a worker: a policy evaluation leaves retention offers waiting; an owner approves one in the console and
 * sees it delivered to the verifying receiver in its decision record; a viewer sees the queue without the buttons and
 * the API refuses the viewer's approval. Every page renders without a console error and is photographed.
 */
describe('Console: approvals, decision record, policies and webhooks in headless Chromium', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let t: TestDatabase;
  let worker: ForesightWorker;
  let running: Promise<void>;
  let dispatcher: WorkflowHandle | undefined;
  let server: RunningServer;
  let receiver: WebhookReceiver;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const taskQueue = 'console-approvals-test';
  const keys = {} as Record<Role, string>;
  let pending: number[] = [];

  before(async function () {
    this.timeout(600_000);
    const launched = launchChromium();
    env = await startTemporal();
    t = await freshDatabase('console_approvals');
    worker = await testWorker(env, t.db, taskQueue);
    running = worker.run();
    dispatcher = await env.client.workflow.start(webhookDispatchWorkflow, {
      taskQueue,
      workflowId: 'webhook-dispatcher-console-test',
      args: [{ pollSeconds: 0.3, delivery: { retryScheduleSeconds: [0.3, 0.5, 1], jitter: 0.1, pausedRecheckSeconds: 0.3 } }],
    });
    const app = createApp({
      db: t.db,
      logger: memoryLogger().logger,
      temporal: { client: env.client, taskQueue },
      secretKey: testSecretKey,
      consoleDir: CONSOLE_DIR,
    });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    for (const role of ['owner', 'viewer', 'admin'] as Role[])
      keys[role] = (await createApiKey(t.db, { name: `${role} person`, role, createdBy: 'test' })).key;

    receiver = await subscribedReceiver(server.url, keys.admin);

    await activeQueuingPolicy(t.db);
    const evaluation = await env.client.workflow.execute(policyEvaluationWorkflow, {
      taskQueue,
      workflowId: 'evaluate-console-test',
      args: [{ policyKey: DEFAULT_POLICY_KEY, startedBy: 'test' }],
    });
    expect(evaluation.pending).to.be.at.least(2);
    pending = (await t.db('actions').where({ status: 'pending_approval' }).orderBy(['decided_at', 'action_id']).pluck('action_id')).map(
      Number,
    );
    browser = await launched;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.close();
    await dispatcher?.terminate('tests done').catch(() => undefined);
    worker?.shutdown();
    await running;
    await t?.db.destroy();
    await env?.teardown();
  });

  async function signIn(role: Role): Promise<{ page: Page; errors: string[] }> {
    const opened = await signedIn(browser, server.url, keys[role]);
    contexts.push(opened.page.context());
    return opened;
  }

  const navItems = (page: Page) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
  const delivered = (actionId: number) =>
    receiver.processed.some((m) => (m.payload as { data: { actionId: number } }).data.actionId === actionId);

  it('owner: approves a waiting action in the queue and sees it delivered in its decision record', async () => {
    const { page, errors } = await signIn('owner');
    expect(await navItems(page)).to.deep.equal([
      'Overview',
      'Customer',
      'Approvals',
      'Policies',
      'Models',
      'Monitoring',
      'Webhooks',
      'Insights',
      'Impact',
      'Finance',
    ]);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Approvals' }).click();
    const rows = page.getByTestId('approvals').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).to.equal(pending.length);
    // Offers expire in the policy's validity (14 days): none is marked as expiring within a day.
    expect(await page.getByText('expires soon').count()).to.equal(0);
    await screenshot(page, 'approvals');

    const actionId = pending[0]!;
    await page.getByRole('button', { name: `Approve action ${actionId}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Action ${actionId} approved.` })
      .waitFor();
    // The queue reloads without it.
    await page.locator(`tr[data-action-id="${actionId}"]`).waitFor({ state: 'detached' });
    expect(await rows.count()).to.equal(pending.length - 1);

    // Its decision record, reached from a row of the queue (the next one) and then by address for the approved one.
    await rows
      .first()
      .getByRole('link', { name: /^Decision / })
      .click();
    await page.getByRole('heading', { name: /^Decision record: action \d+$/ }).waitFor();
    expect(await page.getByTestId('approval-status').textContent()).to.not.equal('approved');
    const deadline = Date.now() + 60_000;
    while (!delivered(actionId) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(delivered(actionId), 'the receiver verified and processed the approved action').to.equal(true);
    for (;;) {
      await page.goto(`${server.url}/console/decisions/${actionId}`);
      await page.getByTestId('approval-status').waitFor();
      if ((await page.getByTestId('deliveries').count()) > 0 && (await page.getByTestId('deliveries').textContent())!.includes('delivered'))
        break;
      if (Date.now() > deadline) throw new Error('the decision record never showed the delivery');
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(await page.getByTestId('approval-status').textContent()).to.equal('approved');
    expect(await page.getByTestId('decided-by').textContent()).to.equal('owner person (owner)');
    expect(await page.getByTestId('action-status').textContent()).to.equal('approved');
    expect(await page.getByTestId('deliveries').locator('tbody tr').count()).to.equal(1);
    expect(await page.getByTestId('trace').textContent()).to.include('conditions');
    await screenshot(page, 'decision-record');
    expect(errors).to.deep.equal([]);
  });

  it('viewer: sees the queue without decision buttons, and the API refuses its approval (403)', async () => {
    const { page, errors } = await signIn('viewer');
    expect(await navItems(page))
      .to.include('Approvals')
      .and.not.include('Webhooks');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Approvals' }).click();
    await page.getByTestId('approvals').locator('tbody tr').first().waitFor();
    expect(await page.getByRole('button', { name: /^Approve/ }).count()).to.equal(0);
    expect(await page.getByRole('checkbox').count()).to.equal(0);
    await screenshot(page, 'viewer-approvals');
    expect(errors).to.deep.equal([]);
    const actionId = pending[1]!;
    const status = await page.evaluate(
      async ([key, id]) =>
        (
          await fetch(`/approvals/${id}/approve`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
            body: '{}',
          })
        ).status,
      [keys.viewer, actionId] as const,
    );
    expect(status).to.equal(403);
    expect((await t.db('actions').where({ action_id: actionId }).first('status')).status).to.equal('pending_approval');
  });

  it('owner: the policies page shows parameters per segment, simulates a draft against the active version and approves it', async () => {
    const { page, errors } = await signIn('owner');
    const draft = await createDraft(
      t.db,
      { policyKey: DEFAULT_POLICY_KEY, rules: DEFAULT_RULES, parameters: { ...DEFAULT_PARAMETERS, holdoutRate: 0 } },
      { name: 'carol', role: 'owner' },
    );
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Policies' }).click();
    const segments = page.getByTestId('segment-parameters');
    await segments.waitFor();
    expect(await segments.locator('tbody tr').count()).to.equal(Object.keys(DEFAULT_PARAMETERS.segments ?? {}).length);
    expect(await page.getByTestId('kill-switch').textContent()).to.match(/^Off/);
    await page.getByRole('button', { name: `Simulate v${draft.version}` }).click();
    await page.getByTestId('difference').waitFor();
    expect(await page.getByTestId('difference').textContent()).to.include('Against the active version 1');
    expect(await page.locator('.chart canvas').count()).to.equal(1);
    await page.getByRole('button', { name: `Approve v${draft.version}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Version ${draft.version} approved.` })
      .waitFor();
    await page.getByRole('button', { name: `Activate v${draft.version}` }).waitFor();
    expect((await t.db('policy_versions').where({ version_id: draft.versionId }).first('approved_by')).approved_by).to.equal(
      'owner person',
    );
    await screenshot(page, 'policies');
    expect(errors).to.deep.equal([]);
  });

  it('owner: the webhooks page lists the deliveries and the dead letters', async () => {
    const { page, errors } = await signIn('owner');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Webhooks' }).click();
    const rows = page.getByTestId('webhook-deliveries').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).to.equal(Number((await t.db('webhook_deliveries').count({ n: '*' }))[0]!.n));
    await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
    await screenshot(page, 'webhooks');
    expect(errors).to.deep.equal([]);
  });
});
