import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { projectRoot } from '../../lib/project-root';
import { DEFAULT_POLICY_KEY, seedDefaultPolicy } from '../../policy/default-policy';
import { evaluatePolicy } from '../../policy/evaluate-policy';
import { launchChromium, screenshot, signedIn } from '../support/browser';
import { freshDatabase, type TestDatabase } from '../support/db';
import { memoryLogger } from '../support/http';
import { insertScoredCustomers } from '../support/scored-customers';

const CONSOLE_DIR = path.join(projectRoot, 'console', 'dist');
const DAY_MS = 86_400_000;
const LOCALE = 'de-DE';
const money = (decimal: string) =>
  (new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format as unknown as (v: string) => string)(
    decimal,
  );

/**
 * The customer page in headless Chromium against the real API on a real database, with known rows: a support person
 * finds a customer by email, sees the timeline (money in their locale) and the scores of both published runs, opens an
 * open action's decision record in place by keyboard, then finds another customer by a source's external id.
 */
describe('Web console: customer search, timeline, scores over runs and decision records', function () {
  this.timeout(180_000);
  let t: TestDatabase;
  let server: RunningServer;
  let browser: Browser;
  let key: string;

  before(async function () {
    this.timeout(300_000);
    expect(fs.existsSync(path.join(CONSOLE_DIR, 'index.html')), 'the console is built (npm run setup builds it)').to.equal(true);
    const launched = launchChromium();
    t = await freshDatabase('console_customer');
    const now = Date.now();
    await insertScoredCustomers(t.db, [{ id: 'risk-0', churn: 0.35, clv: '640.00', segment: 'Loyal' }], new Date(now - 31 * DAY_MS));
    await insertScoredCustomers(
      t.db,
      [
        { id: 'risk-0', churn: 0.9, clv: '900.00', clvLower: '700.00', segment: 'At risk' },
        { id: 'web-7', churn: 0.1, clv: '55.00', segment: 'Champions' },
      ],
      new Date(now - DAY_MS),
    );
    await t.db('customer_identities').insert([
      { source: 'shopify', external_id: 'SH-1', email_normalized: 'ada@example.com', customer_id: 'risk-0', resolved_by: 'customer_id' },
      { source: 'web', external_id: 'W-77', email_normalized: null, customer_id: 'web-7', resolved_by: 'customer_id' },
    ]);
    await t.db('orders').insert({
      order_id: 'o-1',
      customer_id: 'risk-0',
      ordered_at: new Date(now - 40 * DAY_MS),
      amount: '1234.50',
      currency: 'EUR',
      channel: 'web',
      status: 'completed',
    });
    await t
      .db('returns')
      .insert({ return_id: 'r-1', order_id: 'o-1', customer_id: 'risk-0', returned_at: new Date(now - 35 * DAY_MS), amount: '34.50' });
    await t.db('sessions').insert({
      session_id: 's-1',
      customer_id: 'risk-0',
      started_at: new Date(now - 3 * DAY_MS),
      duration_s: 600,
      page_views: 9,
      device: 'mobile',
    });
    await seedDefaultPolicy(t.db, { name: 'owner', role: 'owner' });
    await evaluatePolicy(t.db, DEFAULT_POLICY_KEY, { name: 'worker', role: null });
    key = (await createApiKey(t.db, { name: 'support person', role: 'support', createdBy: 'test' })).key;
    const app = createApp({ db: t.db, logger: memoryLogger().logger, similarPerSecond: 1000, consoleDir: CONSOLE_DIR });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    browser = await launched;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await t?.db.destroy();
  });

  /** The cells of a table's body rows (by test id), from column `from` on. */
  const cells = (page: Page, testId: string, from: number) =>
    page.evaluate<string[][]>(
      `[...document.querySelectorAll('[data-testid="${testId}"] tbody tr')].map((tr) => [...tr.querySelectorAll('td')].slice(${from}).map((td) => td.textContent))`,
    );

  async function signIn(): Promise<{ page: Page; errors: string[] }> {
    return signedIn(browser, server.url, key, { viewport: { width: 1280, height: 900 }, locale: LOCALE });
  }

  it('finds by email and external id; shows the timeline, the scores over runs and a decision record in place', async () => {
    const { page, errors } = await signIn();
    await page.goto(`${server.url}/console/customers`);
    await page.getByLabel('Find by').selectOption('email');
    await page.getByLabel('Email').fill('Ada@Example.com');
    await page.getByLabel('Email').press('Enter');
    await page.getByRole('heading', { name: 'Customer: risk-0' }).waitFor();
    expect(page.url()).to.equal(`${server.url}/console/customers/risk-0`);

    const timeline = page.getByTestId('timeline').locator('tbody tr');
    await timeline.first().waitFor();
    const rows = await cells(page, 'timeline', 1);
    expect(rows).to.deep.equal([
      ['session', 's-1', '9 page views over 10 min, mobile', '–'],
      ['return', 'r-1', 'of order o-1', `${money('34.50')} EUR`],
      ['order', 'o-1', 'completed, web', `${money('1234.50')} EUR`],
    ]);

    const history = page.getByTestId('score-history').locator('tbody tr');
    await history.first().waitFor();
    const scores = await cells(page, 'score-history', 2);
    const percent = (v: number) => new Intl.NumberFormat(LOCALE, { style: 'percent', maximumFractionDigits: 1 }).format(v);
    expect(scores).to.deep.equal([
      [percent(0.9), 'high', money('900.00'), 'At risk', 'high'],
      [percent(0.35), 'medium', money('640.00'), 'Loyal', 'high'],
    ]);
    expect(await page.getByRole('img', { name: /Churn probability per run/ }).count()).to.equal(1);

    // The open action's record, opened with the keyboard: focus its button and press Enter.
    const [action] = (await t.db('actions').where({ customer_id: 'risk-0' }).select('action_id')) as { action_id: string }[];
    expect(action, 'the default policy proposed an action for the customer at risk').to.not.equal(undefined);
    const show = page.getByRole('button', { name: `Show record ${action!.action_id}` });
    await show.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Decision record: action ${action!.action_id}` }).waitFor();
    await page.getByTestId('decision-record').getByTestId('action-status').waitFor();
    const hide = page.getByRole('button', { name: `Hide record ${action!.action_id}` });
    expect(await hide.getAttribute('aria-expanded')).to.equal('true');
    await screenshot(page, 'customer-timeline-history');

    await page.getByLabel('Find by').selectOption('external');
    await page.getByLabel('External id').fill('W-77');
    await page.getByLabel('Source').fill('web');
    await page.getByLabel('Source').press('Enter');
    await page.getByRole('heading', { name: 'Customer: web-7' }).waitFor();
    await page.getByTestId('score-history').waitFor();
    // The timeline loads after the heading: wait for its answer rather than count what is there at that instant.
    await page.getByText('No order, session or return.').waitFor();
    expect(await page.getByText('No order, session or return.').count()).to.equal(1);
    expect(errors).to.deep.equal([]);
  });
});
