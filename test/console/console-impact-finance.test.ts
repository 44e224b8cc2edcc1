import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { demoOfferResponse } from '../../cli/commands/demo-offer-response';
import { ingestFile } from '../../ingestion/ingest-file';
import { projectRoot } from '../../lib/project-root';
import { policyImpact } from '../../monitoring/impact';
import { seedDefaultPolicy } from '../../policy/default-policy';
import { evaluatePolicy } from '../../policy/evaluate-policy';
import { financeViews } from '../../scoring/finance-views';
import { launchChromium, screenshot, signedIn } from '../support/browser';
import { freshDatabase, type TestDatabase } from '../support/db';
import { memoryLogger } from '../support/http';
import { insertScoredCustomers } from '../support/scored-customers';

const CONSOLE_DIR = path.join(projectRoot, 'console', 'dist');
const DAY_MS = 86_400_000;
const DECIDED = new Date('2026-11-29T10:00:00Z');
const CUSTOMERS = 3_000;
const CHANNELS = ['paid_search', 'social', 'store'];
const COSTS = { paid_search: '60.00', social: '25.00' };
const points = (x: number) =>
  `${new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(x * 100)} pp`;
const money = (decimal: string) =>
  (new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format as unknown as (v: string) => string)(
    decimal,
  );

/**
 * The Impact and Finance pages in headless Chromium against the real API: scored customers with acquisition channels
 * from an ingested customers file, the default policy evaluated, the demo's simulated response ingested as orders.
 */
describe('Web console: Impact and Finance pages', function () {
  this.timeout(300_000);
  let t: TestDatabase;
  let server: RunningServer;
  let browser: Browser;
  let versionId: number;
  const keys: Record<string, string> = {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-console-impact-'));

  before(async function () {
    this.timeout(600_000);
    expect(fs.existsSync(path.join(CONSOLE_DIR, 'index.html')), 'the console is built (npm run setup builds it)').to.equal(true);
    const launched = launchChromium();
    t = await freshDatabase('console_impact');
    const ids = Array.from({ length: CUSTOMERS }, (_, i) => `C${String(i).padStart(7, '0')}`);
    const file = path.join(dir, 'customers.csv');
    fs.writeFileSync(
      file,
      'customer_id,email,first_name,country,signup_at,acquisition_channel\n' +
        ids.map((id, i) => `${id},${id.toLowerCase()}@example.com,N,DE,2025-01-01T00:00:00Z,${CHANNELS[i % 3]}`).join('\n') +
        '\n',
    );
    await ingestFile(t.db, { entity: 'customers', file, notAfter: DECIDED });
    const asOf = new Date(DECIDED.getTime() - 30 * DAY_MS);
    // Every other customer bought 10 days before the scores, so the recency rule flags only the others.
    await t.db('orders').insert(
      ids
        .filter((_, i) => i % 2 === 0)
        .map((id) => ({
          order_id: `old-${id}`,
          customer_id: id,
          ordered_at: new Date(asOf.getTime() - 10 * DAY_MS),
          amount: 40,
          currency: 'EUR',
          status: 'completed',
        })),
    );
    await insertScoredCustomers(
      t.db,
      ids.map((id, i) => ({
        id,
        churn: 0.6 + (i % 4) * 0.1,
        clv: `${100 + (i % 7) * 50}.00`,
        clvLower: '80.00',
        segment: ['At risk', 'Loyal', 'Champions'][i % 3],
      })),
      asOf,
    );
    versionId = (await seedDefaultPolicy(t.db, { name: 'olivia', role: 'owner' })).versionId;
    const { evaluationId } = await evaluatePolicy(t.db, 'retention', { name: 'test', role: null }, DECIDED);
    await demoOfferResponse(t.db, evaluationId, dir, async (files, notAfter) => [
      await ingestFile(t.db, { entity: 'orders', file: files.orders, notAfter: new Date(notAfter) }),
    ]);
    for (const role of ['finance', 'support'] as const)
      keys[role] = (await createApiKey(t.db, { name: `${role} person`, role, createdBy: 'test' })).key;
    const app = createApp({ db: t.db, logger: memoryLogger().logger, consoleDir: CONSOLE_DIR, acquisitionCosts: COSTS });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    browser = await launched;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await t?.db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(role: string): Promise<{ page: Page; errors: string[] }> {
    return signedIn(browser, server.url, keys[role]!, { acceptDownloads: true });
  }

  async function downloaded(page: Page, button: string): Promise<{ name: string; text: string }> {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
    return { name: download.suggestedFilename(), text: fs.readFileSync((await download.path())!, 'utf8') };
  }

  it('finance: the impact page shows treated vs control with intervals, against the rule, and downloads the CSV', async () => {
    const impact = await policyImpact(t.db, versionId, { horizonDays: 90 });
    const { page, errors } = await signIn('finance');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Impact' }).click();
    await page.getByTestId('retention-difference').waitFor();
    expect(page.url()).to.equal(`${server.url}/console/impact`);
    expect(await page.getByTestId('retention-difference').textContent()).to.equal(points(impact.retention!.estimate));
    expect(await page.getByTestId('retention-interval').textContent()).to.equal(
      `95% interval ${points(impact.retention!.lower)} to ${points(impact.retention!.upper)}`,
    );
    const table = page.getByTestId('impact-table');
    expect(await table.locator('tr', { hasText: 'Customers' }).locator('td').nth(0).textContent()).to.equal(
      impact.treated.customers.toLocaleString('en-US'),
    );
    expect(await table.locator('tr', { hasText: 'Customers' }).locator('td').nth(1).textContent()).to.equal(
      impact.control.customers.toLocaleString('en-US'),
    );
    expect(impact.baseline.identifiedEarly.customers, 'the policy picks customers the rule does not flag yet').to.be.above(0);
    expect(await page.getByTestId('identified-early').textContent()).to.equal(money(impact.revenueAtRiskIdentifiedEarly));
    const baseline = page.getByTestId('baseline-table');
    expect(await baseline.locator('tr', { hasText: 'Picked by the rule' }).locator('td').nth(1).textContent()).to.equal(
      money(impact.baseline.rulePicks.revenueAtRisk),
    );
    // The bar chart and the interval plot drew.
    expect(await page.locator('.chart canvas').count()).to.equal(2);
    const csv = await downloaded(page, 'Download CSV');
    expect(csv.name).to.equal(`impact-policy-version-${versionId}.csv`);
    expect(csv.text.split('\n')[1]).to.equal(`customers,${impact.treated.customers},${impact.control.customers},,,,,`);
    await screenshot(page, 'impact');
    expect(errors).to.deep.equal([]);
  });

  it('finance: the finance page shows revenue by segment and CLV against acquisition cost, and downloads both tables', async () => {
    const views = await financeViews(t.db, COSTS);
    const { page, errors } = await signIn('finance');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Finance' }).click();
    await page.getByTestId('segments-table').waitFor();
    const segments = page.getByTestId('segments-table');
    expect(await segments.locator('tbody tr').count()).to.equal(3);
    for (const s of views.segments) {
      const cells = segments.locator('tr', { hasText: s.segment! }).locator('td');
      expect(await cells.nth(1).textContent()).to.equal(money(s.expectedRevenue));
      expect(await cells.nth(2).textContent()).to.equal(money(s.revenueAtRisk));
    }
    const channels = page.getByTestId('channels-table');
    expect(await channels.locator('tr', { hasText: 'paid_search' }).locator('td').nth(3).textContent()).to.equal(money('60.00'));
    expect(await channels.locator('tr', { hasText: 'store' }).locator('td').nth(3).textContent()).to.equal('not configured');
    expect(await page.locator('.chart canvas').count()).to.equal(2);
    const segmentsCsv = await downloaded(page, 'Download segments CSV');
    expect(segmentsCsv.name).to.equal('finance-segments.csv');
    expect(segmentsCsv.text.trim().split('\n')).to.have.length(4);
    const channelsCsv = await downloaded(page, 'Download channels CSV');
    expect(channelsCsv.text).to.include(`paid_search,1000,`);
    await screenshot(page, 'finance');
    expect(errors).to.deep.equal([]);
  });

  it('support: neither page is in the navigation', async () => {
    const { page, errors } = await signIn('support');
    const items = await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
    expect(items).to.not.include('Impact').and.not.include('Finance');
    expect(errors).to.deep.equal([]);
  });
});
