import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { ingestFile } from '../../ingestion/ingest-file';
import { loadConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { insertScoredCustomers } from '../support/scored-customers';

/**
 * GET /finance on a handful of customers whose numbers are known: acquisition channels from an ingested customers file
 * (the generator's `acquisition_channel` column, kept as metadata), scores written as scoring would.
 */
describe('API: /finance (revenue by segment, CLV against acquisition cost) and its configuration', () => {
  let t: TestDatabase;
  let server: RunningServer;
  const keys: Record<string, string> = {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-finance-'));

  before(async () => {
    t = await freshDatabase('finance_api');
    const file = path.join(dir, 'customers.csv');
    fs.writeFileSync(
      file,
      'customer_id,email,first_name,country,signup_at,acquisition_channel,marketing_opt_in\n' +
        'f1,f1@example.com,A,DE,2025-01-01T00:00:00Z,paid_search,true\n' +
        'f2,f2@example.com,B,DE,2025-01-01T00:00:00Z,paid_search,true\n' +
        'f3,f3@example.com,C,DE,2025-01-01T00:00:00Z,social,false\n' +
        'f4,f4@example.com,D,DE,2025-01-01T00:00:00Z,,false\n',
    );
    await ingestFile(t.db, { entity: 'customers', file, notAfter: new Date('2026-12-01T00:00:00Z') });
    await insertScoredCustomers(t.db, [
      { id: 'f1', churn: 0.5, clv: '100.01', segment: 'At risk' },
      { id: 'f2', churn: 0.25, clv: '200.00', segment: 'At risk' },
      { id: 'f3', churn: 0.1, clv: '50.00', segment: 'Champions' },
      { id: 'f4', churn: 0.9, clv: '10.00', segment: 'Lost' },
    ]);
    const app = createApp({
      db: t.db,
      logger: memoryLogger().logger,
      acquisitionCosts: { paid_search: '60.00', social: '0', email: '5.50' },
    });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    for (const role of ['finance', 'owner', 'support', 'ml'] as const)
      keys[role] = (await createApiKey(t.db, { name: `${role}-key`, role, createdBy: 'test' })).key;
  });
  after(async () => {
    await server?.close();
    await t?.db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sums expected revenue and revenue at risk by segment in numeric', async () => {
    const res = await call(server.url, 'GET', '/finance', { key: keys.finance });
    expect(res.status).to.equal(200);
    expect(res.body.clvHorizonMonths).to.deep.equal([12]);
    // At risk: 0.5 × 100.01 + 0.25 × 200 = 100.005 → 100.01 (P(churn) is a real; 0.5 and 0.25 are exact in it).
    expect(res.body.segments).to.deep.equal([
      {
        segment: 'At risk',
        customers: 2,
        expectedRevenue: '300.01',
        revenueAtRisk: '100.01',
        expectedRevenueRetained: '200.01',
        averageClv: '150.01',
      },
      {
        segment: 'Lost',
        customers: 1,
        expectedRevenue: '10.00',
        revenueAtRisk: '9.00',
        expectedRevenueRetained: '1.00',
        averageClv: '10.00',
      },
      {
        segment: 'Champions',
        customers: 1,
        expectedRevenue: '50.00',
        revenueAtRisk: '5.00',
        expectedRevenueRetained: '45.00',
        averageClv: '50.00',
      },
    ]);
  });

  it('sets CLV against the configured acquisition cost per channel, from the customers file', async () => {
    const res = await call(server.url, 'GET', '/finance', { key: keys.owner });
    expect(res.body.channelSource).to.equal("customers.metadata->>'acquisition_channel'");
    expect(res.body.configuredChannels).to.deep.equal(['email', 'paid_search', 'social']);
    expect(res.body.channels).to.deep.equal([
      // (100.01 + 200) / 2 = 150.005 → 150.01; 150.005 − 60 = 90.005 → 90.01; 150.005 / 60 = 2.50.
      {
        channel: 'paid_search',
        customers: 2,
        expectedRevenue: '300.01',
        averageClv: '150.01',
        acquisitionCost: '60.00',
        clvLessAcquisitionCost: '90.01',
        clvToAcquisitionCost: '2.50',
      },
      // A cost of 0: the difference is there, the ratio is not.
      {
        channel: 'social',
        customers: 1,
        expectedRevenue: '50.00',
        averageClv: '50.00',
        acquisitionCost: '0',
        clvLessAcquisitionCost: '50.00',
        clvToAcquisitionCost: null,
      },
      // No channel in the file, and no cost for it.
      {
        channel: 'unknown',
        customers: 1,
        expectedRevenue: '10.00',
        averageClv: '10.00',
        acquisitionCost: null,
        clvLessAcquisitionCost: null,
        clvToAcquisitionCost: null,
      },
    ]);
  });

  it('exports each table as CSV, refuses a bad table, and answers only finance, owner and marketing', async () => {
    const csv = await fetch(`${server.url}/finance?format=csv&table=channels`, { headers: { authorization: `Bearer ${keys.finance}` } });
    expect(csv.status).to.equal(200);
    expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).to.include('finance-channels.csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).to.equal(
      'channel,customers,expected_revenue,average_clv,acquisition_cost,clv_less_acquisition_cost,clv_to_acquisition_cost',
    );
    expect(lines[1]).to.equal('paid_search,2,300.01,150.01,60.00,90.01,2.50');
    const segments = await fetch(`${server.url}/finance?format=csv`, { headers: { authorization: `Bearer ${keys.finance}` } });
    expect((await segments.text()).split('\n')[1]).to.equal('At risk,2,300.01,100.01,200.01,150.01');
    const bad = await call(server.url, 'GET', '/finance?format=csv&table=everything', { key: keys.finance });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.message).to.include('table');
    expect((await call(server.url, 'GET', '/finance', { key: keys.support })).status).to.equal(403);
    expect((await call(server.url, 'GET', '/finance', { key: keys.ml })).status).to.equal(403);
  });

  it('reads FORESIGHT_ACQUISITION_COSTS as a JSON object of decimal strings, naming what is wrong', () => {
    const costs = (value?: string) => loadConfig({ FORESIGHT_ACQUISITION_COSTS: value }).finance.acquisitionCosts;
    expect(costs()).to.deep.equal({});
    expect(costs('{"paid_search":"42.50","store":"0"}')).to.deep.equal({ paid_search: '42.50', store: '0' });
    expect(() => costs('paid_search=42')).to.throw(ConfigError, /FORESIGHT_ACQUISITION_COSTS: a JSON object/);
    expect(() => costs('{"paid_search":42.5}')).to.throw(ConfigError, /FORESIGHT_ACQUISITION_COSTS: paid_search: /);
    expect(() => costs('{"social":"1.234"}')).to.throw(ConfigError, /at most 2 decimals/);
  });
});
