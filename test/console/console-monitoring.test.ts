import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { projectRoot } from '../../lib/project-root';
import { runMonitoring } from '../../monitoring/run-monitoring';
import { launchChromium, screenshot, signedIn } from '../support/browser';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { insertFeatureSnapshot, insertScoredCustomers, registerMonitoredFeatures, type ScoredCustomer } from '../support/scored-customers';

const CONSOLE_DIR = path.join(projectRoot, 'console', 'dist');
const DAY_MS = 86_400_000;
const SEGMENTS = ['At risk', 'Champions', 'Loyal', 'Hibernating'];

/** 60 customers; `segmentShift` moves each customer's segment along SEGMENTS, so segments migrate between runs. */
const population = (segmentShift: number): ScoredCustomer[] =>
  Array.from({ length: 60 }, (_, i) => ({
    id: `m-${String(i).padStart(2, '0')}`,
    churn: ((i * 37) % 100) / 100,
    clv: `${20 + i}.00`,
    segment: SEGMENTS[(i + (i % 5 === 0 ? segmentShift : 0)) % SEGMENTS.length]!,
    confidence: i % 4 === 0 ? ('medium' as const) : ('high' as const),
  }));

/**
 * The Monitoring page in headless Chromium against the real API: a year-old run, then two monitored scoring runs (the second with a
 * feature shifted, so a feature_drift alert is open), orders after them so their churn horizon has matured, and the
 * ingestion ledger for freshness. The owner sees every figure with its table and resolves the alert; a viewer sees
 * the same page without the resolve button, and the API refuses the viewer's resolve.
 */
describe('Web console: the Monitoring page', function () {
  this.timeout(180_000);
  let t: TestDatabase;
  let server: RunningServer;
  let browser: Browser;
  const keys: Record<'owner' | 'viewer', string> = { owner: '', viewer: '' };
  const contexts: BrowserContext[] = [];
  // A year-old run whose CLV horizon has matured, then two monitored runs; the data reaches two days past the last.
  const old = new Date('2025-05-01T00:00:00Z');
  const first = new Date('2026-03-01T00:00:00Z');
  const second = new Date('2026-06-10T00:00:00Z');
  const dataUntil = new Date('2026-06-12T00:00:00Z');

  before(async function () {
    this.timeout(300_000);
    expect(fs.existsSync(path.join(CONSOLE_DIR, 'index.html')), 'the console is built (npm run setup builds it)').to.equal(true);
    const launched = launchChromium();
    t = await freshDatabase('console_monitoring');
    await registerMonitoredFeatures(t.db);
    await insertScoredCustomers(t.db, population(0), old);
    await insertFeatureSnapshot(t.db, first, population(0));
    const firstRun = await insertScoredCustomers(t.db, population(0), first);
    await insertFeatureSnapshot(t.db, second, population(1), 150);
    const runId = await insertScoredCustomers(t.db, population(1), second);
    // Half the customers bought a month after the old run and ten days after the first: both within the churn horizon.
    const buyers = population(0).filter((_, i) => i % 2 === 0);
    await t.db('orders').insert(
      [old, first].flatMap((from, k) =>
        buyers.map((c, i) => ({
          order_id: `mo-${k}-${i}`,
          customer_id: c.id,
          ordered_at: new Date(from.getTime() + (k === 0 ? 30 : 10) * DAY_MS),
          amount: '25.00',
          currency: 'EUR',
          status: 'completed',
        })),
      ),
    );
    for (const entity of ['orders', 'returns', 'sessions'])
      await t.db('ingest_batches').insert({
        entity,
        file_name: `${entity}.csv`,
        file_sha256: entity,
        status: 'completed',
        exported_at: dataUntil,
        latest_event_at: new Date(second.getTime() - (entity === 'sessions' ? 3 : 1) * DAY_MS),
      });
    await runMonitoring(t.db, firstRun, new Date(first.getTime() + DAY_MS));
    const report = await runMonitoring(t.db, runId, new Date(second.getTime() + DAY_MS));
    expect(report.breaches).to.deep.equal(['feature_drift']);
    for (const role of ['owner', 'viewer'] as const)
      keys[role] = (await createApiKey(t.db, { name: `${role} person`, role, createdBy: 'test' })).key;
    server = await startServer(createApp({ db: t.db, logger: memoryLogger().logger, consoleDir: CONSOLE_DIR }), {
      port: 0,
      host: '127.0.0.1',
    });
    browser = await launched;
  });

  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
    await t?.db.destroy();
  });

  async function signIn(role: 'owner' | 'viewer'): Promise<{ page: Page; errors: string[] }> {
    const { page, errors } = await signedIn(browser, server.url, keys[role]);
    contexts.push(page.context());
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Monitoring' }).click();
    await page.getByTestId('report').waitFor();
    await page.getByTestId('calibration').waitFor({ state: 'attached' });
    return { page, errors };
  }

  it('viewer: every figure with its numbers, the open alert, and no resolve button (the API refuses it too)', async () => {
    const { page, errors } = await signIn('viewer');
    expect(await page.getByTestId('alert-feature_drift').textContent()).to.include('days_since_last_order');
    expect(await page.getByRole('button', { name: 'Resolve' }).count()).to.equal(0);
    // PSI, coverage and confidence, freshness, calibration, CLV: each a drawn chart with a table.
    expect(await page.locator('.chart canvas').count()).to.equal(5);
    for (const title of [
      'Population stability (PSI) per feature',
      'Coverage and confidence mix',
      'Freshness per source',
      'Calibration over time',
      'CLV realised vs predicted',
    ])
      expect(await page.getByText(`${title}: the numbers`).count(), title).to.equal(1);
    const psiRow = page.locator('tr', { has: page.locator('td', { hasText: /^days_since_last_order$/ }) });
    expect(Number(await psiRow.locator('td').nth(1).textContent())).to.be.above(1);
    // The migration matrix: a fifth of the customers moved one segment along.
    const migration = page.getByTestId('migration');
    expect(await migration.locator('tbody tr').count()).to.be.at.least(SEGMENTS.length);
    expect(await page.getByText('20% of the customers scored in both runs changed segment').count()).to.equal(1);
    const calibration = page.getByTestId('calibration').locator('tbody tr');
    expect(await calibration.count()).to.equal(3);
    // The first monitored run: its 30 buyers did not churn, so the realised churn is 50%; the latest has not matured.
    expect(await calibration.nth(1).locator('td').nth(3).textContent()).to.equal('50%');
    expect(await calibration.nth(1).locator('td').nth(5).textContent()).to.equal('90 days, matured');
    expect(await calibration.nth(2).locator('td').nth(3).textContent()).to.equal('–');
    // The old run's CLV: 30 buyers × 2 orders × 25.00 = 1,500.00 against Σ (20 + i) over 60 customers = 2,970.00.
    const clv = page.getByTestId('clv-outcomes').locator('tbody tr');
    expect(await clv.first().locator('td').nth(2).textContent()).to.equal('2,970.00');
    expect(await clv.first().locator('td').nth(3).textContent()).to.equal('1,500.00');
    expect(await clv.first().locator('td').nth(4).textContent()).to.equal('50.5%');
    expect(await clv.nth(1).locator('td').nth(5).textContent()).to.match(/^matures /);
    const sessions = page.locator('tr', { has: page.locator('td', { hasText: /^sessions$/ }) });
    expect(await sessions.locator('td').nth(2).textContent()).to.equal('3');
    await screenshot(page, 'monitoring-viewer');
    const alertId = (await t.db('alerts').where({ status: 'open', kind: 'feature_drift' }).first('alert_id')).alert_id;
    const refused = await call(server.url, 'POST', `/alerts/${alertId}/resolve`, { key: keys.viewer, json: { reason: 'looks fine' } });
    expect(refused.status).to.equal(403);
    expect(errors).to.deep.equal([]);
  });

  it('owner: resolves the alert with a reason; the banner goes and automatic approval is said to resume', async () => {
    const { page, errors } = await signIn('owner');
    const alert = page.getByTestId('alert-feature_drift');
    await screenshot(page, 'monitoring-owner');
    await alert.getByLabel('Reason').fill('Checked with the shop: a new price list');
    await alert.getByRole('button', { name: 'Resolve' }).click();
    await page.getByTestId('no-alerts').waitFor();
    const resolved = await t.db('alerts').where({ kind: 'feature_drift' }).first('status', 'resolved_by', 'resolved_reason');
    expect(resolved).to.deep.equal({
      status: 'resolved',
      resolved_by: 'owner person',
      resolved_reason: 'Checked with the shop: a new price list',
    });
    expect(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')).to.equal(true);
    await screenshot(page, 'monitoring-resolved');
    expect(errors).to.deep.equal([]);
  });
});
