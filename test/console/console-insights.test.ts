import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
import { seedDefaultPolicy } from '../../policy/default-policy';
import { scoreCustomers } from '../../scoring/score-customers';
import { trainModels } from '../../training/train-models';
import { launchChromium, screenshot, signedIn } from '../support/browser';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';

const CONSOLE_DIR = path.join(projectRoot, 'console', 'dist');
type Role = 'owner' | 'finance' | 'support';

const money = (locale: string, decimal: string) =>
  (new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format as unknown as (v: string) => string)(
    decimal,
  );
const percent = (value: number) => new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(value);

/**
 * The insights page and the policy tuning views in headless Chromium against the real API on a real database: a small
 * generated shop, models trained 100 days before its export and scored then (a run whose 90-day outcomes are known
 * by the export), retrained and scored again at the export. The pages must show the API's figures, in the viewer's
 * locale, without a console error.
 */
describe('Web console: insights, threshold tuning, version diffs and the parameters form', function () {
  this.timeout(180_000);
  let t: TestDatabase;
  let server: RunningServer;
  let browser: Browser;
  const keys = {} as Record<Role, string>;
  const contexts: BrowserContext[] = [];
  let activeVersionId: number;

  before(async function () {
    this.timeout(900_000);
    expect(fs.existsSync(path.join(CONSOLE_DIR, 'index.html')), 'the console is built (npm run setup builds it)').to.equal(true);
    const launched = launchChromium();
    t = await freshDatabase('console_insights');
    const shop = await generateShop({
      customers: 3_000,
      seed: 11,
      outDir: path.join(os.tmpdir(), `foresight-insights-shop-${process.pid}`),
    });
    const exportAt = new Date(shop.exportInstant);
    const earlier = new Date(exportAt.getTime() - 100 * MS_PER_DAY);
    for (const [entity, file] of shopIngestionFiles(shop)) await ingestFile(t.db, { entity, file, notAfter: exportAt });
    await trainModels(t.db, { asOf: earlier, createdBy: 'test' });
    await scoreCustomers(t.db, { asOf: earlier });
    await trainModels(t.db, { asOf: exportAt, createdBy: 'test' });
    await scoreCustomers(t.db, { asOf: exportAt });
    for (const role of ['owner', 'finance', 'support'] as const) {
      keys[role] = (await createApiKey(t.db, { name: `${role} person`, role, createdBy: 'test' })).key;
    }
    activeVersionId = (await seedDefaultPolicy(t.db, { name: 'owner person', role: 'owner' })).versionId;
    const app = createApp({ db: t.db, logger: memoryLogger().logger, similarPerSecond: 1000, consoleDir: CONSOLE_DIR });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    browser = await launched;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await t?.db.destroy();
  });

  async function signIn(role: Role, locale = 'en-US'): Promise<{ page: Page; errors: string[] }> {
    const opened = await signedIn(browser, server.url, keys[role], { locale });
    contexts.push(opened.page.context());
    return opened;
  }

  const api = async (path: string, role: Role = 'owner') => (await call(server.url, 'GET', path, { key: keys[role] })).body;
  const fitsWidth = (page: Page) => page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth');

  it('owner: reaches Insights by keyboard; churn drivers and CLV associations, labelled directional, with their trend', async () => {
    const { page, errors } = await signIn('owner');
    // Tab through the navigation to Insights and open it with Enter.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate<string>('document.activeElement.textContent')) === 'Insights') break;
    }
    expect(await page.evaluate<string>('document.activeElement.textContent')).to.equal('Insights');
    await page.keyboard.press('Enter');
    await page.getByTestId('not-causal').waitFor();
    expect(page.url()).to.equal(`${server.url}/console/insights`);
    expect(await page.getByTestId('not-causal').textContent()).to.include('Directional, not causal');

    // The top churn driver: its share of the latest run's customers, worked out here from the stored drivers.
    const insights = await api('/insights?runs=6');
    expect(insights.runs).to.have.length(2);
    const latestRun = insights.runs[1].runId;
    const [top] = (
      await t.db.raw(
        `select d->>'feature' as feature, count(distinct s.customer_id)::float8 / (select count(*) from customer_risk_scores where run_id = :run) as share
           from customer_risk_scores s cross join lateral json_array_elements(s.churn_drivers) d
          where s.run_id = :run and (d->>'contribution')::float8 > 0
          group by 1 order by 2 desc, 1 limit 1`,
        { run: latestRun },
      )
    ).rows;
    const drivers = page.getByTestId('churn-drivers').locator('tbody tr');
    expect(await drivers.count())
      .to.equal(insights.churn.overall.length)
      .and.to.be.greaterThan(0);
    expect(insights.churn.overall[0].feature).to.equal(top.feature);
    expect(await drivers.first().locator('td').nth(1).textContent({ timeout: 1000 })).to.equal(percent(top.share));
    expect(await drivers.first().locator('th').textContent()).to.equal(insights.churn.overall[0].description);
    expect(await page.getByTestId('clv-associations').locator('tbody tr').count())
      .to.equal(insights.clv.overall.length)
      .and.to.be.greaterThan(0);
    // The trend tables have one column per run after the behaviour.
    expect(await page.getByTestId('trend-churn').locator('thead th').count()).to.equal(3);
    expect(await page.getByTestId('trend-clv').locator('thead th').count()).to.equal(3);
    // Four charts drew: churn and CLV bars, the two trends.
    expect(await page.locator('.chart canvas').count()).to.equal(4);
    expect(await fitsWidth(page)).to.equal(true);
    await screenshot(page, 'insights');
    expect(errors).to.deep.equal([]);
  });

  it('owner: the cost curve of the churn threshold, its minimum, carried into a draft that the diff then shows', async () => {
    const { page, errors } = await signIn('owner');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Policies' }).click();
    await page.getByText('Threshold tuning by cost (retention offer)').click();
    await page.getByTestId('minimum-threshold').waitFor();
    const curve = await api(`/policies/versions/${activeVersionId}/threshold-costs`);
    expect(curve.run.asOf).to.equal(insightsRunAsOf(await api('/insights?runs=6')));
    expect(curve.points).to.have.length(101);
    const threshold = (v: number) => new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v);
    expect(await page.getByTestId('minimum-threshold').textContent()).to.equal(threshold(curve.minimum.threshold));
    expect(await page.getByTestId('minimum-total').textContent()).to.include(money('en-US', curve.minimum.total));
    expect(await page.getByTestId('current-threshold').textContent()).to.equal(threshold(0.6));
    expect(await page.getByTestId('threshold-costs').locator('tbody tr').count()).to.equal(101);
    // Look at 0.5, then carry it into a parameters draft.
    await page.getByLabel('Threshold to look at').fill('0.5');
    const atHalf = curve.points.find((p: { threshold: number }) => p.threshold === 0.5);
    expect(await page.getByTestId('chosen-costs').textContent()).to.include(money('en-US', atHalf.total));
    await screenshot(page, 'policies-threshold-tuning');
    await page.getByRole('button', { name: 'Use 0.50 in a parameters draft' }).click();
    await page.getByTestId('carried').waitFor();
    const field = page.getByLabel('thresholds · minChurnProbability').first();
    expect(await field.inputValue()).to.equal('0.5');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft version 2 saved.').waitFor();
    const draft = await t.db('policy_versions').where({ policy_key: 'retention', version: 2 }).first();
    expect(draft.parameters.actions.retention_offer.thresholds.minChurnProbability).to.equal(0.5);

    // The history compares the active version with the new draft.
    await page.getByLabel('Compare version').selectOption({ label: 'v1 (active)' });
    await page.getByLabel('with version').selectOption({ label: 'v2 (draft)' });
    await page.getByRole('button', { name: 'Show the differences' }).click();
    const rows = page.getByTestId('diff').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).to.equal(1);
    expect(await rows.first().locator('th').textContent()).to.equal(
      'parameters › actions › retention_offer › thresholds › minChurnProbability',
    );
    expect(await rows.first().locator('td').allTextContents()).to.deep.equal(['changed', '0.6', '0.5']);
    expect(await fitsWidth(page)).to.equal(true);
    await screenshot(page, 'policies-diff');
    expect(errors).to.deep.equal([]);
  });

  it('owner: the parameters form marks every field the server refuses, beside its input', async () => {
    const { page, errors } = await signIn('owner');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Policies' }).click();
    await page.getByText('New draft with changed parameters').click();
    await page.getByLabel('holdoutRate').fill('2');
    await page.getByLabel('responseRate').first().fill('often');
    await page.getByRole('button', { name: 'Save draft' }).click();
    const summary = page.getByTestId('field-errors');
    await summary.waitFor();
    expect(await summary.locator('li').count()).to.equal(2);
    for (const label of ['holdoutRate', 'responseRate']) {
      const input = page.getByLabel(label).first();
      expect(await input.getAttribute('aria-invalid')).to.equal('true');
      const described = (await input.getAttribute('aria-describedby'))!;
      expect(await page.locator(`#${described}`).textContent()).to.match(/\S/);
    }
    // The refused draft was not saved.
    expect(await t.db('policy_versions').where({ policy_key: 'retention' }).max('version as v').first()).to.deep.equal({ v: 2 });
    await screenshot(page, 'policies-parameter-errors');
    // The refused request is the only error the page reports.
    expect(errors.filter((e) => !/status of 400/.test(e))).to.deep.equal([]);
  });

  it('finance reads insights and costs in its locale without drafting; support has neither, and the API refuses', async () => {
    const { page, errors } = await signIn('finance', 'de-DE');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Policies' }).click();
    await page.getByText('Threshold tuning by cost (retention offer)').click();
    await page.getByTestId('minimum-total').waitFor();
    const curve = await api(`/policies/versions/${activeVersionId}/threshold-costs`, 'finance');
    expect(await page.getByTestId('minimum-total').textContent()).to.include(money('de-DE', curve.minimum.total));
    expect(await page.getByRole('button', { name: /in a parameters draft/ }).count()).to.equal(0);
    await screenshot(page, 'finance-threshold-tuning');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Insights' }).click();
    await page.getByTestId('not-causal').waitFor();
    expect(await page.getByTestId('churn-drivers').locator('tbody tr').count()).to.be.greaterThan(0);
    expect(errors).to.deep.equal([]);

    const support = await signIn('support');
    await support.page.getByLabel('Customer id').waitFor();
    expect(await support.page.getByRole('link', { name: 'Insights' }).count()).to.equal(0);
    expect((await call(server.url, 'GET', '/insights', { key: keys.support })).status).to.equal(403);
    await support.page.goto(`${server.url}/console/insights`);
    await support.page.getByRole('alert').filter({ hasText: 'Role support may not call GET /insights' }).waitFor();
  });
});

/** The older of the two runs: the one whose outcomes are known by the export. */
function insightsRunAsOf(insights: { runs: { asOf: string }[] }): string {
  return insights.runs[0]!.asOf;
}
