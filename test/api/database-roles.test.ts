import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import pino from 'pino';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { createApiKey, revokeApiKey } from '../../access/api-keys';
import { authFailureCounts } from '../../access/auth-failures';
import { config } from '../../lib/config';
import { createDb } from '../../lib/db';
import { generateShop } from '../../datagen/generate';
import { ingestFile } from '../../ingestion/ingest-file';
import { shopIngestionFiles } from '../../ingestion/shop-files';
import { registerModel } from '../../registry/model-registry';
import { scoreCustomers } from '../../scoring/score-customers';
import { trainModels } from '../../training/train-models';
import { runCli } from '../support/cli';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db';

async function rejection(promise: PromiseLike<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  return expect.fail('expected the statement to be refused');
}

/** Under DATABASE_URL the role URLs default to the owner's: these tests need real least-privilege logins. */
function needsRoleLogins(ctx: Mocha.Context): void {
  const pg = config().postgres;
  if (pg.url && (!pg.roleUrls.api || !pg.roleUrls.worker)) ctx.skip();
}

describe('database roles: least privilege and an append-only trail', () => {
  let t: TestDatabase;
  let api: Knex;
  let worker: Knex;

  before(async function () {
    needsRoleLogins(this);
    t = await freshDatabase('roles');
    api = createDb(urlFor(t.name, 'api'));
    worker = createDb(urlFor(t.name, 'worker'));
    // Two audit rows (create, revoke) and a model with one event to try to rewrite.
    const { keyId } = await createApiKey(t.db, { name: 'old', role: 'support', createdBy: 'test' });
    await revokeApiKey(t.db, keyId, 'test');
    await registerModel(t.db, { kind: 'churn', parameters: {}, metrics: {}, artifact: {}, createdBy: 'test' });
  });

  after(async () => {
    await api?.destroy();
    await worker?.destroy();
  });

  it('connects the API and the worker as their own non-superuser logins', async () => {
    for (const [db, login, group] of [
      [api, 'foresight_api_login', 'foresight_api'],
      [worker, 'foresight_worker_login', 'foresight_worker'],
    ] as const) {
      const row = (await db.raw('select current_user as who, usesuper from pg_user where usename = current_user')).rows[0];
      expect(row).to.deep.equal({ who: login, usesuper: false });
      expect((await db.raw('select pg_has_role(current_user, ?, ?) as member', [group, 'member'])).rows[0].member).to.equal(true);
    }
  });

  it('the API role cannot update, delete or truncate audit_log', async () => {
    const before = await t.db('audit_log').orderBy('id').select('*');
    expect(before).to.have.length(2);
    for (const statement of [
      api('audit_log').update({ actor: 'someone else' }),
      api('audit_log').delete(),
      api.raw('truncate audit_log'),
    ]) {
      expect((await rejection(statement)).message).to.match(/permission denied/);
    }
    expect(await t.db('audit_log').orderBy('id').select('*')).to.deep.equal(before);
  });

  it('neither service role can switch the append-only triggers off', async () => {
    for (const db of [api, worker]) {
      expect((await rejection(db.raw('set session_replication_role = replica'))).message).to.match(/permission denied/);
      expect((await rejection(db.raw('alter table audit_log disable trigger user'))).message).to.match(/must be owner/);
    }
    expect((await rejection(worker('audit_log').delete())).message).to.match(/permission denied/);
    expect((await rejection(worker('api_keys').select('key_hash'))).message).to.match(/permission denied/);
  });

  it('model_registry_events refuses UPDATE, DELETE and TRUNCATE, even from the owner', async () => {
    for (const statement of [
      t.db('model_registry_events').update({ actor: 'someone else' }),
      t.db('model_registry_events').delete(),
      t.db.raw('truncate model_registry_events cascade'),
      t.db.raw('truncate model_registry cascade'),
    ]) {
      expect((await rejection(statement)).message).to.match(/append-only|never deleted/);
    }
    expect(await t.db('model_registry_events').count({ n: '*' })).to.deep.equal([{ n: '1' }]);
  });

  describe('the API served as the API role', () => {
    let server: RunningServer;
    let keys: Record<'ml' | 'support', string>;
    const call = async (method: string, url: string, key: string, body?: unknown) => {
      const res = await fetch(server.url + url, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    before(async () => {
      server = await startServer(createApp({ db: api, logger: pino({ level: process.env.DEBUG_API ? 'error' : 'silent' }) }), {
        port: 0,
        host: '127.0.0.1',
      });
      keys = {
        ml: (await createApiKey(t.db, { name: 'ml-key', role: 'ml', createdBy: 'test' })).key,
        support: (await createApiKey(t.db, { name: 'support-key', role: 'support', createdBy: 'test' })).key,
      };
      await t.db('customers').insert({ customer_id: 'c-1' });
      const asOf = '2026-06-30T00:00:00.000Z';
      const [run] = await t
        .db('scoring_runs')
        .insert({ as_of: asOf, run_key: 'roles-test', status: 'published', published_at: new Date(), model_versions: {} }, ['run_id']);
      await t.db('customer_risk_scores').insert({
        run_id: run!.run_id,
        as_of: asOf,
        customer_id: 'c-1',
        churn_probability: 0.25,
        churn_horizon_days: 90,
        risk_band: 'low',
        churn_drivers: JSON.stringify([]),
        clv_expected_net_revenue: '10.00',
        clv_horizon_months: 12,
        segment: 'loyal',
        rfm: JSON.stringify({ r: 5, f: 5, m: 5 }),
        confidence: 'high',
        coverage: JSON.stringify({ confidence: 'high', reasons: [] }),
        model_versions: JSON.stringify({}),
      });
    });

    after(async () => {
      await server?.close();
    });

    it('serves a profile', async () => {
      const res = await call('GET', '/customer/profile/c-1', keys.support);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ customerId: 'c-1' });
    });

    it('serves a timeline (orders, returns and sessions) and the scores over runs', async () => {
      const timeline = await call('GET', '/customer/c-1/timeline', keys.support);
      expect(timeline.status, JSON.stringify(timeline.body)).to.equal(200);
      const scores = await call('GET', '/customer/c-1/scores', keys.support);
      expect(scores.status, JSON.stringify(scores.body)).to.equal(200);
    });

    it('serves insights (churn drivers and CLV associations, read with the feature snapshots)', async () => {
      const owner = (await createApiKey(t.db, { name: 'owner-key', role: 'owner', createdBy: 'test' })).key;
      const insights = await call('GET', '/insights', owner);
      expect(insights.status, JSON.stringify(insights.body)).to.equal(200);
    });

    it('changes a model status and writes its audit row', async () => {
      const [model] = await t.db('model_registry').pluck('model_id');
      const res = await call('POST', `/models/${model}/status`, keys.ml, { status: 'shadow', reason: 'compare on live data' });
      expect(res.status).to.equal(200);
      const audit = await t.db('audit_log').where({ action: 'model.status' }).select('actor', 'target');
      expect(audit).to.deep.equal([{ actor: 'ml-key', target: `model:${model}` }]);
    });

    it('counts refused keys per reason (malformed, unknown, revoked)', async () => {
      const before = await authFailureCounts(t.db);
      const { key: revoked, keyId } = await createApiKey(t.db, { name: 'gone', role: 'support', createdBy: 'test' });
      await revokeApiKey(t.db, keyId, 'test');
      const unknown = keys.support.slice(0, -4) + 'AAAA';
      for (const key of ['not-a-key', unknown, unknown, revoked]) {
        expect((await call('GET', '/customer/profile/c-1', key)).status).to.equal(401);
      }
      expect(await authFailureCounts(t.db)).to.deep.equal({
        malformed: before.malformed + 1,
        unknown: before.unknown + 2,
        revoked: before.revoked + 1,
      });
    });
  });

  it('the worker role ingests a shop, trains every model and scores every customer', async function () {
    this.timeout(600_000);
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-worker-role-'));
    const shopDb = await freshDatabase('worker_role');
    const asWorker = createDb(urlFor(shopDb.name, 'worker'));
    try {
      const shop = await generateShop({ customers: 1500, seed: 11, outDir });
      const asOf = new Date(shop.exportInstant);
      for (const [entity, file] of shopIngestionFiles(shop)) await ingestFile(asWorker, { entity, file, notAfter: asOf });
      const trained = await trainModels(asWorker, { asOf, createdBy: 'worker-test' });
      expect(trained.models.map((m) => m.status)).to.deep.equal(['champion', 'champion', 'champion']);
      const scored = await scoreCustomers(asWorker, { asOf });
      expect(scored.customers).to.be.greaterThan(0);
      expect(await shopDb.db('customer_risk_scores').count({ n: '*' })).to.deep.equal([{ n: String(scored.customers) }]);
    } finally {
      await asWorker.destroy();
      await shopDb.db.destroy();
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });

  describe('foresight migrate --down (the built CLI)', () => {
    let target: TestDatabase;
    const cli = (args: string[]) => runCli(args, target.url);
    const tables = async () =>
      (await target.db.raw("select count(*)::int as n from pg_tables where schemaname = 'public' and tablename not like 'knex\\_%'"))
        .rows[0].n as number;

    before(async () => {
      target = await freshDatabase('migrate_down');
    });
    after(async () => {
      await target?.db.destroy();
    });

    it('refuses without --yes when no one can be asked, and drops nothing', async () => {
      const before = await tables();
      expect(before).to.be.greaterThan(10);
      const run = cli(['migrate', '--down']);
      expect(run.status, run.stderr).to.equal(2);
      expect(run.stderr).to.contain('pass --yes to confirm');
      expect(await tables()).to.equal(before);
    });

    it('rolls every migration back with --yes', async () => {
      const run = cli(['migrate', '--down', '--yes']);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.contain('Rolled back');
      expect(await tables()).to.equal(0);
    });
  });
});
