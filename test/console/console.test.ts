import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { generateShop } from '../../datagen/generate';
import { runMonitoring } from '../../monitoring/run-monitoring';
import type { RunTrend } from '../../scoring/portfolio-trend';
import { ingestFile } from '../../ingestion/ingest-file';
import { shopIngestionFiles } from '../../ingestion/shop-files';
import { projectRoot } from '../../lib/project-root';
import { scoreCustomers } from '../../scoring/score-customers';
import { trainModels } from '../../training/train-models';
import { launchChromium, pageErrors, screenshot, signedIn } from '../support/browser';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';

const CONSOLE_DIR = path.join(projectRoot, 'console', 'dist');
type Role = 'owner' | 'finance' | 'support';
/** The part of GET /overview's answer the trend checks read. */
interface OverviewTrendAnswer {
  trend: RunTrend[];
  freshness: { runId: number; sources: { source: string }[] } | null;
  openAlerts: number;
  actionsWaitingForApproval: number;
}

/** Formats as the console does (Intl, the browser's locale), so expectations follow the locale, not a fixed text. */
function expectedMoney(locale: string, decimal: string): string {
  const format = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format as unknown as (
    v: string,
  ) => string;
  return format(decimal);
}

/**
 * The web console in headless Chromium against the real API on a real database: a small generated shop, ingested,
 * trained twice (champions, then shadow candidates) and scored. Signs in as an owner, a finance key (no /models, no
 * look-alikes) and a support key (no overview); each page must render the data without a console error.
 */
describe('Web console in headless Chromium', function () {
  this.timeout(180_000);
  let t: TestDatabase;
  let server: RunningServer;
  let browser: Browser;
  const keys = {} as Record<Role, string>;
  const contexts: BrowserContext[] = [];

  before(async function () {
    this.timeout(600_000);
    expect(fs.existsSync(path.join(CONSOLE_DIR, 'index.html')), 'the console is built (npm run setup builds it)').to.equal(true);
    const launched = launchChromium();
    t = await freshDatabase('console');
    const shop = await generateShop({ customers: 3_000, seed: 7, outDir: path.join(os.tmpdir(), `foresight-console-shop-${process.pid}`) });
    const asOf = new Date(shop.exportInstant);
    for (const [entity, file] of shopIngestionFiles(shop)) await ingestFile(t.db, { entity, file, notAfter: asOf });
    await trainModels(t.db, { asOf, createdBy: 'test' });
    await trainModels(t.db, { asOf, createdBy: 'test' });
    // Two published runs four weeks apart, the latest monitored, so that the overview has a trend and freshness.
    await scoreCustomers(t.db, { asOf: new Date(asOf.getTime() - 28 * 86_400_000) });
    const latest = await scoreCustomers(t.db, { asOf });
    await runMonitoring(t.db, latest.runId);
    for (const role of ['owner', 'finance', 'support'] as const) {
      keys[role] = (await createApiKey(t.db, { name: `${role} person`, role, createdBy: 'test' })).key;
    }
    const app = createApp({ db: t.db, logger: memoryLogger().logger, similarPerSecond: 1000, consoleDir: CONSOLE_DIR });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    browser = await launched;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await t?.db.destroy();
  });

  async function open(locale = 'en-US'): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
    contexts.push(context);
    const page = await context.newPage();
    return { page, errors: pageErrors(page) };
  }

  async function signIn(role: Role, locale?: string): Promise<{ page: Page; errors: string[] }> {
    const opened = await signedIn(browser, server.url, keys[role], { locale });
    contexts.push(opened.page.context());
    return opened;
  }

  const navItems = (page: Page) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
  const fitsWidth = (page: Page) => page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth');

  it('serves the console at / under a strict Content-Security-Policy, and refuses an unknown key at sign-in', async () => {
    const { page, errors } = await open();
    const response = await page.goto(`${server.url}/`);
    expect(page.url()).to.equal(`${server.url}/console/`);
    const csp = response!.headers()['content-security-policy']!;
    expect(csp).to.include("script-src 'self'").and.include("frame-ancestors 'none'").and.not.include('unsafe');
    await page.getByLabel('API key').fill(`fs_0123abcd_${'A'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Unknown API key' }).waitFor();
    expect(await page.evaluate<number>('sessionStorage.length')).to.equal(0);
    await screenshot(page, 'sign-in');
    // The refused request is the only error the page reports.
    expect(errors.filter((e) => !/status of 401/.test(e))).to.deep.equal([]);
  });

  it('owner: the overview shows the latest profiles (customers, revenue at risk, risk distribution, segments)', async () => {
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
    expect(page.url()).to.equal(`${server.url}/console/`);
    const [totals] = (
      await t.db.raw(`select count(*)::int as n, round(sum(churn_probability::numeric * clv_expected_net_revenue), 2)::text as at_risk
                        from customer_profiles_latest`)
    ).rows;
    await page.getByTestId('customers-scored').waitFor();
    expect(await page.getByTestId('customers-scored').textContent()).to.equal(totals.n.toLocaleString('en-US'));
    expect(await page.getByTestId('revenue-at-risk').textContent()).to.equal(expectedMoney('en-US', totals.at_risk));
    // Every chart drew on its canvas (risk, segments, the three trends, segments over runs), its numbers in tables.
    expect(await page.locator('.chart canvas').count()).to.equal(6);
    const segments = (await t.db('customer_profiles_latest').select('segment').count({ n: '*' }).groupBy('segment')) as {
      segment: string;
      n: string;
    }[];
    const segmentTable = page.locator('table', { has: page.locator('th', { hasText: /^Segment$/ }) });
    expect(await segmentTable.locator('tbody tr').count()).to.equal(segments.length);
    for (const s of segments) {
      expect(await segmentTable.locator('tr', { hasText: s.segment }).locator('td').nth(1).textContent()).to.equal(
        Number(s.n).toLocaleString('en-US'),
      );
    }
    const riskTable = page.locator('table', { has: page.locator('th', { hasText: /^P\(churn\)$/ }) });
    expect(await riskTable.locator('tbody tr').count()).to.equal(10);
    // The trend, KPIs, segments over runs, freshness and what waits: as the API answers, in the viewer's locale.
    const overview = (await call(server.url, 'GET', '/overview', { key: keys.owner })).body as OverviewTrendAnswer;
    expect(overview.trend).to.have.length(2);
    const cells = async (testId: string) => {
      const rows = await page.getByTestId(testId).locator('tbody tr').all();
      return Promise.all(rows.map((row) => row.locator('td').allTextContents()));
    };
    const day = (iso: string) => new Intl.DateTimeFormat('en-US', { dateStyle: 'medium' }).format(new Date(iso));
    const percent = (v: number | null) =>
      v === null ? '–' : new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(v);
    expect(await cells('trend-table')).to.deep.equal(
      overview.trend.map((r) => [
        day(r.asOf),
        r.customersScored.toLocaleString('en-US'),
        expectedMoney('en-US', r.revenueAtRisk),
        expectedMoney('en-US', r.averageClv!),
      ]),
    );
    // The second run's retention is measured on the first run's customers over the four weeks between them.
    expect(overview.trend[1]!.previousCustomers).to.equal(overview.trend[0]!.customersScored);
    expect(overview.trend[1]!.retentionRate).to.be.a('number');
    expect(await cells('kpi-table')).to.deep.equal(
      overview.trend.map((r) => [
        day(r.asOf),
        r.previousCustomers.toLocaleString('en-US'),
        r.retainedCustomers.toLocaleString('en-US'),
        percent(r.retentionRate),
        percent(r.churnRate),
        percent(r.netRevenueRetention),
      ]),
    );
    const segmentTrend = await cells('segment-trend-table');
    expect(segmentTrend.map((row) => row[0])).to.have.members(segments.map((s) => s.segment));
    for (const row of segmentTrend) {
      const sizes = overview.trend.map((r) => r.segments.find((s) => s.segment === row[0])?.customers ?? 0);
      expect(row.slice(1)).to.deep.equal([
        ...sizes.map((n) => n.toLocaleString('en-US')),
        (sizes[1]! - sizes[0]! > 0 ? '+' : '') + (sizes[1]! - sizes[0]!).toLocaleString('en-US'),
      ]);
    }
    expect(overview.freshness!.runId).to.equal(overview.trend[1]!.runId);
    expect((await cells('freshness-table')).map((row) => row[0])).to.deep.equal(overview.freshness!.sources.map((s) => s.source));
    expect(await page.getByTestId('open-alerts').textContent()).to.equal(String(overview.openAlerts));
    expect(await page.getByTestId('actions-waiting').textContent()).to.equal(String(overview.actionsWaitingForApproval));
    expect(await fitsWidth(page)).to.equal(true);
    await screenshot(page, 'overview');
    expect(errors).to.deep.equal([]);
  });

  it('owner: a customer looked up by id shows drivers, CLV, segment, confidence and look-alikes', async () => {
    const { page, errors } = await signIn('owner');
    const row = await t.db('customer_profiles_latest').orderBy('churn_probability', 'desc').first();
    await page.getByRole('link', { name: 'Customer' }).click();
    await page.getByLabel('Customer id').fill(row.customer_id);
    await page.getByLabel('Customer id').press('Enter');
    await page.getByTestId('churn-probability').waitFor();
    expect(page.url()).to.equal(`${server.url}/console/customers/${encodeURIComponent(row.customer_id)}`);
    const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(row.churn_probability);
    expect(await page.getByTestId('churn-probability').textContent()).to.equal(percent);
    const drivers = await page.getByTestId('drivers').locator('li').allTextContents();
    expect(drivers).to.have.length(row.churn_drivers.length);
    row.churn_drivers.forEach((d: { sentence: string }, i: number) => expect(drivers[i]).to.include(d.sentence));
    expect(await page.getByTestId('clv').textContent()).to.equal(expectedMoney('en-US', row.clv_expected_net_revenue));
    expect(await page.getByTestId('segment').textContent()).to.equal(row.segment);
    expect(await page.getByTestId('confidence').textContent()).to.equal(row.confidence);
    const lookAlikes = page.getByTestId('similar').locator('tbody tr');
    await lookAlikes.first().waitFor();
    expect(await lookAlikes.count()).to.equal(10);
    expect(await fitsWidth(page)).to.equal(true);
    await screenshot(page, 'customer');
    // A look-alike is a link to its own profile.
    const other = (await lookAlikes.first().getByRole('link').textContent())!;
    await lookAlikes.first().getByRole('link').click();
    await page.getByRole('heading', { name: `Customer: ${other}` }).waitFor();
    await page.getByTestId('churn-probability').waitFor();
    expect(errors).to.deep.equal([]);
  });

  it('owner: the models page shows each kind with its champion and the shadow candidates', async () => {
    const { page, errors } = await signIn('owner');
    await page.getByRole('link', { name: 'Models' }).click();
    for (const kind of ['churn', 'clv', 'segments']) {
      const table = page.getByTestId(`models-${kind}`);
      await table.waitFor();
      expect(await table.locator('tbody tr').count()).to.equal(2);
      expect(await table.locator('tbody tr').first().locator('.badge').textContent()).to.equal('champion');
      expect(await table.locator('tbody tr').nth(1).locator('.badge').textContent()).to.equal('shadow');
    }
    expect(await page.getByText('Candidates: version 2 (shadow).').count()).to.equal(3);
    expect(await fitsWidth(page)).to.equal(true);
    await screenshot(page, 'models');
    expect(errors).to.deep.equal([]);
  });

  it('is keyboard-navigable: skip link, then the pages as links with a visible focus', async () => {
    const { page, errors } = await signIn('owner');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.textContent')).to.equal('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.textContent')).to.equal('Overview');
    expect(await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')).to.not.equal('none');
    for (const item of ['Customer', 'Approvals', 'Policies', 'Models']) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate<string>('document.activeElement.textContent')).to.equal(item);
    }
    await page.keyboard.press('Enter');
    await page.getByTestId('models-churn').waitFor();
    expect(page.url()).to.equal(`${server.url}/console/models`);
    expect(errors).to.deep.equal([]);
  });

  it('finance (no /models, no look-alikes): no Models item, money in its locale, and the API refuses /models', async () => {
    const { page, errors } = await signIn('finance', 'de-DE');
    expect(await navItems(page)).to.deep.equal(['Overview', 'Customer', 'Approvals', 'Policies', 'Insights', 'Impact', 'Finance']);
    const [totals] = (
      await t.db.raw(
        'select round(sum(churn_probability::numeric * clv_expected_net_revenue), 2)::text as at_risk from customer_profiles_latest',
      )
    ).rows;
    await page.getByTestId('revenue-at-risk').waitFor();
    expect(await page.getByTestId('revenue-at-risk').textContent()).to.equal(expectedMoney('de-DE', totals.at_risk));
    await screenshot(page, 'finance-overview');
    const row = await t.db('customer_profiles_latest').first('customer_id');
    await page.getByRole('link', { name: 'Customer' }).click();
    await page.getByLabel('Customer id').fill(row.customer_id);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByTestId('churn-probability').waitFor();
    expect(await page.getByRole('heading', { name: 'Look-alikes' }).count()).to.equal(0);
    await screenshot(page, 'finance-customer');
    expect(errors).to.deep.equal([]);

    // The server enforces what the console hides: the key itself is refused, and the page says so.
    const status = await page.evaluate(
      async (key) => (await fetch('/models', { headers: { Authorization: `Bearer ${key}` } })).status,
      keys.finance,
    );
    expect(status).to.equal(403);
    await page.goto(`${server.url}/console/models`);
    await page.getByRole('alert').filter({ hasText: 'Role finance may not call GET /models' }).waitFor();
  });

  it('support (no overview): starts on the customer page, its first item', async () => {
    const { page, errors } = await signIn('support');
    expect(await navItems(page)).to.deep.equal(['Customer', 'Approvals', 'Policies']);
    await page.getByLabel('Customer id').waitFor();
    await screenshot(page, 'support-start');
    expect(errors).to.deep.equal([]);
  });
});
