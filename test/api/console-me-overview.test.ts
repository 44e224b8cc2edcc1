import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import express from 'express';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { CONSOLE_CSP, consoleFiles } from '../../api/console-files';
import { createAuth } from '../../api/auth';
import { assertEveryRouteGuarded } from '../../api/route-table';
import { startServer, type RunningServer } from '../../api/server';
import { ROLES, type Role } from '../../lib/roles';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';

/** GET /me and GET /overview over real HTTP and Postgres, and the console's files served beside the API. */
describe('API: /me, /overview and the console files', () => {
  let t: TestDatabase;
  let server: RunningServer;
  let consoleDir: string;
  const keys = {} as Record<Role, string>;
  const get = (path: string, role?: Role) => call(server.url, 'GET', path, { key: role && keys[role] });

  before(async () => {
    t = await freshDatabase('console_api');
    // A stand-in for vite's output: the serving rules do not depend on what the bundle contains.
    consoleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-console-'));
    fs.mkdirSync(path.join(consoleDir, 'assets'));
    fs.writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>console</title>');
    fs.writeFileSync(path.join(consoleDir, 'assets', 'index-abc123.js'), 'console.log(1)');
    const app = createApp({ db: t.db, logger: memoryLogger().logger, consoleDir });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    for (const role of ROLES) keys[role] = (await createApiKey(t.db, { name: `${role} person`, role, createdBy: 'test' })).key;
  });

  after(async () => {
    await server?.close();
    await t?.db.destroy();
    if (consoleDir) fs.rmSync(consoleDir, { recursive: true, force: true });
  });

  it('GET /me names the key and its role, with the routes that role may call (from the guards)', async () => {
    const owner = await get('/me', 'owner');
    expect(owner.status).to.equal(200);
    expect(owner.body.name).to.equal('owner person');
    expect(owner.body.role).to.equal('owner');
    expect(owner.body.may).to.include.members(['GET /me', 'GET /overview', 'GET /models', 'GET /customer/profile/:id/similar']);
    const support = await get('/me', 'support');
    expect(support.body.role).to.equal('support');
    expect(support.body.may).to.include.members(['GET /me', 'GET /customer/profile/:id']);
    expect(support.body.may).to.not.include.members(['GET /overview']);
    expect(support.body.may).to.not.include('GET /models');
    const finance = await get('/me', 'finance');
    expect(finance.body.may).to.include('GET /overview').and.not.include('GET /models');
    expect((await get('/me')).status).to.equal(401);
  });

  it('GET /overview is answered for the business roles and refused to support', async () => {
    for (const role of ['owner', 'marketing', 'finance', 'ml'] as const) expect((await get('/overview', role)).status, role).to.equal(200);
    const support = await get('/overview', 'support');
    expect(support.status).to.equal(403);
    expect(support.body.error.code).to.equal('forbidden');
  });

  it('GET /overview before any scoring: nothing scored, zero money, empty bins', async () => {
    const { body } = await get('/overview', 'owner');
    expect(body).to.include({ asOf: null, customersScored: 0, revenueAtRisk: '0.00', expectedRevenue: '0.00', customersWithoutValue: 0 });
    expect(body.churnProbability.map((b: { customers: number }) => b.customers)).to.deep.equal(Array(10).fill(0));
    expect(body.segments).to.deep.equal([]);
  });

  it('GET /overview sums money in numeric from the latest profiles: revenue at risk, bins, bands and segments', async () => {
    const rows: [string, number, string | null, string, string | null][] = [
      ['a', 0.5, '1000.10', 'high', 'Lost'],
      ['b', 0.25, '200.02', 'medium', 'Lost'],
      ['c', 1, '0.01', 'high', 'Champions'],
      ['d', 0.0625, null, 'low', null],
    ];
    await t.db('customers').insert(rows.map(([id]) => ({ customer_id: id })));
    // An older run: its rows are not the latest for a, so they must not count.
    for (const asOf of ['2026-05-31T00:00:00.000Z', '2026-06-30T00:00:00.000Z']) {
      const [run] = await t
        .db('scoring_runs')
        .insert({ as_of: asOf, run_key: `overview-${asOf}`, status: 'published', published_at: new Date() }, ['run_id']);
      const older = asOf.startsWith('2026-05');
      await t.db('customer_risk_scores').insert(
        (older ? rows.slice(0, 1) : rows).map(([id, p, clv, band, segment]) => ({
          run_id: run!.run_id,
          as_of: asOf,
          customer_id: id,
          churn_probability: older ? 0.99 : p,
          churn_horizon_days: 90,
          risk_band: band,
          clv_expected_net_revenue: older ? '99999.99' : clv,
          clv_horizon_months: 12,
          segment,
          confidence: 'medium',
        })),
      );
    }
    const { status, body } = await get('/overview', 'finance');
    expect(status).to.equal(200);
    // 0.5 × 1000.10 + 0.25 × 200.02 + 1 × 0.01 = 550.065, rounded half away from zero in numeric.
    expect(body).to.deep.include({
      asOf: '2026-06-30T00:00:00.000Z',
      oldestAsOf: '2026-06-30T00:00:00.000Z',
      customersScored: 4,
      revenueAtRisk: '550.07',
      expectedRevenue: '1200.13',
      customersWithoutValue: 1,
    });
    expect(body.churnProbability.map((b: { customers: number }) => b.customers)).to.deep.equal([1, 0, 1, 0, 0, 1, 0, 0, 0, 1]);
    expect(body.churnProbability[9]).to.deep.equal({ from: 0.9, to: 1, customers: 1 });
    expect(body.riskBands).to.deep.equal([
      { band: 'low', customers: 1, revenueAtRisk: '0.00' },
      { band: 'medium', customers: 1, revenueAtRisk: '50.01' },
      { band: 'high', customers: 2, revenueAtRisk: '500.06' },
    ]);
    expect(body.segments).to.deep.equal([
      { segment: 'Lost', customers: 2, expectedRevenue: '1200.12', revenueAtRisk: '550.06' },
      { segment: 'Champions', customers: 1, expectedRevenue: '0.01', revenueAtRisk: '0.01' },
      { segment: null, customers: 1, expectedRevenue: '0.00', revenueAtRisk: '0.00' },
    ]);
  });

  it('serves the console: / redirects, client routes get index.html under the CSP, assets are cached, no key needed', async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(root.status).to.equal(302);
    expect(root.headers.get('location')).to.equal('/console/');
    for (const page of ['/console', '/console/', '/console/customers/C0001', '/console/models']) {
      const res = await fetch(server.url + page);
      expect(res.status, page).to.equal(200);
      expect(res.headers.get('content-type'), page).to.match(/^text\/html/);
      expect(res.headers.get('content-security-policy'), page).to.equal(CONSOLE_CSP);
      expect(await res.text()).to.include('<title>console</title>');
    }
    const asset = await fetch(`${server.url}/console/assets/index-abc123.js`);
    expect(asset.status).to.equal(200);
    expect(asset.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(CONSOLE_CSP).to.not.include('unsafe');
  });

  it('leaves everything else to the API: missing assets, other methods and traversal get JSON 404s', async () => {
    expect((await call(server.url, 'GET', '/console/assets/missing.js')).status).to.equal(404);
    expect((await call(server.url, 'GET', '/console/assets/..%2f..%2fpackage.json')).status).to.be.oneOf([400, 403, 404]);
    expect((await call(server.url, 'POST', '/console/', { json: {} })).status).to.equal(404);
    expect((await call(server.url, 'DELETE', '/')).status).to.equal(404);
    // API routes are untouched by the console: still guarded, still JSON.
    expect((await call(server.url, 'GET', '/overview')).status).to.equal(401);
  });

  it('refuses to build an app with a route where the console serves files, or with an unmarked file server', () => {
    const auth = createAuth(t.db);
    const shadowing = express();
    shadowing.use(consoleFiles(consoleDir));
    shadowing.get('/console/api', auth.publicRoute, (_req, res) => void res.json({}));
    expect(() => assertEveryRouteGuarded(shadowing)).to.throw('Routes at paths served as public files: GET /console/api');
    const unmarked = express();
    unmarked.use(express.static(consoleDir));
    expect(() => assertEveryRouteGuarded(unmarked)).to.throw(/Handlers without allow/);
  });

  it('says when the console is not built', async () => {
    const app = createApp({ db: t.db, logger: memoryLogger().logger, consoleDir: path.join(consoleDir, 'nowhere') });
    const bare = await startServer(app, { port: 0, host: '127.0.0.1' });
    try {
      const res = await call(bare.url, 'GET', '/console/');
      expect(res.status).to.equal(404);
      expect(res.body.error.message).to.match(/console is not built: run "npm run setup"/);
    } finally {
      await bare.close();
    }
  });
});
