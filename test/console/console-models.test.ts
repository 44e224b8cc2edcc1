import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { generateShop } from '../../datagen/generate';
import { ingestFile } from '../../ingestion/ingest-file';
import { shopIngestionFiles } from '../../ingestion/shop-files';
import { MS_PER_DAY } from '../../lib/horizons';
import { projectRoot } from '../../lib/project-root';
import type { Role } from '../../lib/roles';
import { trainModels } from '../../training/train-models';
import { shadowEvaluationWorkflow } from '../../workflows/shadow-evaluation';
import { launchChromium, screenshot, signedIn } from '../support/browser';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { startTemporal, testSecretKey, testWorker } from '../support/temporal';
import type { ForesightWorker } from '../../cli/worker';

const CONSOLE_DIR = path.join(projectRoot, 'console', 'dist');
const share = (value: number) => new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(value);
const figure = (value: number) => new Intl.NumberFormat('en-US', { maximumFractionDigits: Number.isInteger(value) ? 0 : 3 }).format(value);
const count = (value: number) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(value);

/**
 * The Models page in headless Chromium against the real API, Postgres and a Temporal dev server with a worker: a shop
 * trained twice (a champion, then a candidate in shadow), the candidate evaluated in shadow by its workflow, which
 * leaves a promotion waiting. The page shows the churn models' reliability diagram and lift table as the API stores
 * them and the candidate's shadow report; the ML user promotes the candidate and rolls it back from the page; an
 * owner and a viewer see no such buttons and the API refuses them.
 */
describe('Console: the Models page (shadow report, reliability, gains, promotion and rollback)', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let t: TestDatabase;
  let worker: ForesightWorker;
  let running: Promise<void>;
  let server: RunningServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const taskQueue = 'console-models-test';
  const keys = {} as Record<Role, string>;
  let championId: number;
  let candidateId: number;

  before(async function () {
    this.timeout(900_000);
    const launched = launchChromium();
    env = await startTemporal();
    t = await freshDatabase('console_models');
    worker = await testWorker(env, t.db, taskQueue);
    running = worker.run();
    const shop = await generateShop({ customers: 3_000, seed: 17, outDir: path.join(os.tmpdir(), `foresight-models-shop-${process.pid}`) });
    const exportAt = new Date(shop.exportInstant);
    for (const [entity, file] of shopIngestionFiles(shop)) await ingestFile(t.db, { entity, file, notAfter: exportAt });
    const first = await trainModels(t.db, { asOf: new Date(exportAt.getTime() - 60 * MS_PER_DAY), createdBy: 'test' });
    const second = await trainModels(t.db, { asOf: exportAt, createdBy: 'test' });
    championId = first.models.find((m) => m.kind === 'churn')!.modelId;
    const candidate = second.models.find((m) => m.kind === 'churn')!;
    expect(candidate.status, 'the second churn model waits in shadow').to.equal('shadow');
    candidateId = candidate.modelId;
    const shadow = await env.client.workflow.execute(shadowEvaluationWorkflow, {
      taskQueue,
      workflowId: `shadow-${candidateId}`,
      args: [{ candidateIds: [candidateId], requestPromotion: { deadlineSeconds: 3600 } }],
    });
    expect(shadow.promotions).to.deep.equal([`promotion-${candidateId}`]);

    const app = createApp({
      db: t.db,
      logger: memoryLogger().logger,
      temporal: { client: env.client, taskQueue },
      secretKey: testSecretKey,
      consoleDir: CONSOLE_DIR,
    });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    for (const role of ['ml', 'owner', 'viewer'] as Role[])
      keys[role] = (await createApiKey(t.db, { name: `${role} person`, role, createdBy: 'test' })).key;
    browser = await launched;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
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

  const api = async (method: string, path: string, role: Role, json?: unknown) => call(server.url, method, path, { key: keys[role], json });
  const modelOf = async (id: number) =>
    ((await api('GET', '/models', 'ml')).body.models as { modelId: number; status: string; metrics: Record<string, unknown> }[]).find(
      (m) => m.modelId === id,
    )!;
  /** Each body row of a table under the test id, as the texts of its cells (row heading first). */
  const rowsOf = async (page: Page, testId: string) => {
    const rows = page.getByTestId(testId).locator('tbody tr');
    const texts: string[][] = [];
    for (let i = 0; i < (await rows.count()); i++) texts.push(await rows.nth(i).locator('th, td').allTextContents());
    return texts;
  };

  it('ML: reaches Models by keyboard; reliability and lift tables match the API; the shadow report of the candidate', async () => {
    const { page, errors } = await signIn('ml');
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate<string>('document.activeElement.textContent')) === 'Models') break;
    }
    expect(await page.evaluate<string>('document.activeElement.textContent')).to.equal('Models');
    await page.keyboard.press('Enter');
    await page.getByTestId(`reliability-${championId}`).waitFor();

    for (const id of [championId, candidateId]) {
      const { metrics } = await modelOf(id);
      const bins = metrics.reliability as { lower: number; upper: number; count: number; meanPredicted: number; observedRate: number }[];
      const gains = metrics.gains as {
        fraction: number;
        rows: number;
        positives: number;
        positiveRate: number;
        lift: number;
        capture: number;
      }[];
      expect(bins.length, 'the stored reliability bins').to.be.at.least(2);
      expect(gains.map((g) => g.fraction)).to.deep.equal([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
      expect(gains.at(-1)!.capture, 'all churners are in the top 100%').to.be.closeTo(1, 1e-12);
      expect(await rowsOf(page, `reliability-${id}`)).to.deep.equal(
        bins.map((b) => [`${share(b.lower)}–${share(b.upper)}`, count(b.count), share(b.meanPredicted), share(b.observedRate)]),
      );
      expect(await rowsOf(page, `gains-${id}`)).to.deep.equal(
        gains.map((g) => [
          `top ${share(g.fraction)}`,
          count(g.rows),
          count(g.positives),
          share(g.positiveRate),
          g.lift.toFixed(2),
          share(g.capture),
        ]),
      );
    }

    const { report } = (await api('GET', `/models/${candidateId}/shadow-report`, 'ml')).body.shadowReport;
    expect(report.candidate.modelId).to.equal(candidateId);
    expect(report.champion.modelId).to.equal(championId);
    expect(report.backtest, 'a backtest with known outcomes').to.not.equal(null);
    const signed = (v: number) => `${v >= 0 ? '+' : ''}${figure(v)}`;
    const better = (b: string) => (b === 'closerToOne' ? 'closer to 1' : b);
    expect(await rowsOf(page, `shadow-metrics-${candidateId}`)).to.deep.equal(
      report.backtest.metrics.map((m: { metric: string; champion: number; candidate: number; delta: number; better: string }) => [
        m.metric,
        figure(m.champion),
        figure(m.candidate),
        signed(m.delta),
        better(m.better),
      ]),
    );
    expect(await rowsOf(page, `shadow-shift-${candidateId}`)).to.deep.equal([
      ['Score distribution shift (PSI)', figure(report.shift.psi)],
      ['Rank agreement (Spearman)', figure(report.shift.rankAgreement)],
      ['Customers changing risk band', count(report.shift.labelChanges)],
      ['Overlap of the top 10% by risk', figure(report.shift.topDecileOverlap)],
    ]);
    const promotion = page.getByTestId(`promotion-${candidateId}`);
    expect(await promotion.getByRole('button').allTextContents()).to.deep.equal([`Promote churn version 2`, `Reject churn version 2`]);
    expect(await page.getByRole('button', { name: 'Roll back churn' }).count()).to.equal(1);
    await screenshot(page, 'models-ml');
    expect(errors).to.deep.equal([]);
  });

  it('owner sees the registry and reports without promote or roll back, and the API refuses both', async () => {
    const { page, errors } = await signIn('owner');
    await page.goto(`${server.url}/console/models`);
    await page.getByTestId(`shadow-shift-${candidateId}`).waitFor();
    expect(await page.getByRole('button', { name: /^(Promote|Reject) / }).count()).to.equal(0);
    expect(await page.getByRole('button', { name: /^Roll back/ }).count()).to.equal(0);
    expect(errors).to.deep.equal([]);
    const promotion = await api('POST', `/models/${candidateId}/promotion`, 'owner', { decision: 'approve', reason: 'owner tries' });
    expect(promotion.status).to.equal(403);
    expect((await api('POST', '/models/churn/rollback', 'owner', { reason: 'owner tries' })).status).to.equal(403);
  });

  it('viewer: no Models page, and the API refuses the registry, the report, promotion and rollback', async () => {
    const { page, errors } = await signIn('viewer');
    const nav = await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
    expect(nav).to.not.include('Models');
    expect(await page.getByRole('button', { name: /^(Promote|Reject|Roll back) / }).count()).to.equal(0);
    expect(errors).to.deep.equal([]);
    for (const [method, path, json] of [
      ['GET', '/models', undefined],
      ['GET', `/models/${candidateId}/shadow-report`, undefined],
      ['POST', `/models/${candidateId}/promotion`, { decision: 'approve', reason: 'viewer tries' }],
      ['POST', '/models/churn/rollback', { reason: 'viewer tries' }],
    ] as const)
      expect((await api(method, path, 'viewer', json)).status, `${method} ${path}`).to.equal(403);
    expect((await modelOf(candidateId)).status, 'nothing changed').to.equal('shadow');
  });

  it('ML: promotes the candidate through its workflow, then rolls churn back to the previous champion', async () => {
    const { page, errors } = await signIn('ml');
    await page.goto(`${server.url}/console/models`);
    await page.getByTestId(`promotion-${candidateId}`).waitFor();
    await page.getByLabel('Reason for the decision on churn version 2').fill('better lift on the shadow report');
    await page.getByRole('button', { name: 'Promote churn version 2' }).click();
    expect(await page.getByTestId('outcome').textContent()).to.match(/: approved\.$/);
    expect((await modelOf(candidateId)).status).to.equal('champion');
    expect((await modelOf(championId)).status).to.equal('retired');
    const workflow = await env.client.workflow.getHandle(`promotion-${candidateId}`).result();
    expect(workflow.decision).to.deep.include({ decision: 'approve', by: 'ml person', role: 'ml' });

    await page.getByTestId('rollback-churn').waitFor();
    await page.getByLabel('Reason to roll back churn').fill('the new champion misfires');
    await page.getByRole('button', { name: 'Roll back churn' }).click();
    await page.getByText(/is champion again\.$/).waitFor();
    expect((await modelOf(championId)).status).to.equal('champion');
    expect((await modelOf(candidateId)).status).to.equal('retired');
    await screenshot(page, 'models-ml-after-rollback');
    expect(errors).to.deep.equal([]);
  });
});
