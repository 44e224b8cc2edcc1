import { createHash } from 'node:crypto';
import { expect } from 'chai';
import express from 'express';
import knex from 'knex';
import { createApp } from '../../api/app';
import { createAuth } from '../../api/auth';
import { createApiKey, revokeApiKey } from '../../access/api-keys';
import { ROLES, type Role } from '../../lib/roles';
import { errorHandler } from '../../api/errors';
import { assertEveryRouteGuarded, knownMiddleware, routeTable } from '../../api/route-table';
import { startServer, type RunningServer } from '../../api/server';
import { registerModel } from '../../registry/model-registry';
import { cliStdout } from '../support/cli';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';

const EMBEDDING = Array.from({ length: 16 }, (_, i) => (i % 3) - 1 + i / 100);

describe('HTTP API', () => {
  let t: TestDatabase;
  let server: RunningServer;
  const keys = {} as Record<Role, string>;
  const logs = memoryLogger();
  const get = (path: string, key?: string) => call(server.url, 'GET', path, { key });

  before(async () => {
    t = await freshDatabase('api');
    server = await startServer(createApp({ db: t.db, logger: logs.logger, similarPerSecond: 1000 }), { port: 0, host: '127.0.0.1' });
    for (const role of ROLES) keys[role] = (await createApiKey(t.db, { name: `${role}-key`, role, createdBy: 'test' })).key;

    await t.db('customers').insert(['c-1', 'c-2', 'c-3', 'c-4', 'unscored'].map((customer_id) => ({ customer_id })));
    const asOf = '2026-06-30T00:00:00.000Z';
    const [run] = await t.db('scoring_runs').insert(
      {
        as_of: asOf,
        run_key: 'api-test',
        status: 'published',
        published_at: new Date(),
        model_versions: { churn: { modelId: 1, version: 1 } },
      },
      ['run_id'],
    );
    const score = (customerId: string, embedding: number[]) => ({
      run_id: run!.run_id,
      as_of: asOf,
      customer_id: customerId,
      churn_probability: 0.625,
      churn_horizon_days: 90,
      risk_band: 'high',
      churn_drivers: JSON.stringify([
        { feature: 'days_since_last_order', value: 120, contribution: 0.8, sentence: 'No order for 120 days.' },
      ]),
      clv_expected_net_revenue: '1234.50',
      clv_lower: '1000.00',
      clv_upper: '1500.00',
      clv_horizon_months: 12,
      p_alive: 0.5,
      expected_orders: 1.5,
      expected_spend_per_order: '82.30',
      expected_next_order_at: '2026-09-01T00:00:00.000Z',
      segment: 'at_risk',
      rfm: JSON.stringify({ r: 1, f: 3, m: 4 }),
      price_sensitive: true,
      cluster_id: 2,
      cluster_description: 'frequent, discount-driven',
      embedding,
      confidence: 'medium',
      coverage: JSON.stringify({ confidence: 'medium', reasons: ['sparse'], clv: { model: 'baseline', interval: { level: 0.9 } } }),
      model_versions: JSON.stringify({ churn: { modelId: 1, version: 1 } }),
    });
    await t.db('customer_risk_scores').insert([
      score('c-1', EMBEDDING),
      score(
        'c-2',
        EMBEDDING.map((v) => v * 2),
      ), // same direction: similarity 1
      score(
        'c-3',
        EMBEDDING.map((v, i) => (i === 0 ? v + 1 : v)),
      ), // close
      score(
        'c-4',
        EMBEDDING.map((v) => -v),
      ), // opposite: similarity -1
    ]);
  });

  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  it('answers /health without a key when the database is up', async () => {
    const res = await get('/health');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ status: 'ok', database: 'ok' });
  });

  it('refuses requests without a key, with an unknown key, or with a revoked key (401)', async () => {
    const missing = await get('/customer/profile/c-1');
    expect(missing.status).to.equal(401);
    expect(missing.body.error).to.include({ code: 'unauthorized' });
    expect(logs.entries.find((e) => e.requestId === missing.body.error.requestId)).to.include({ msg: 'access denied', status: 401 });

    const forged = keys.owner.slice(0, -4) + 'AAAA';
    for (const key of [forged, 'not-a-key']) {
      const res = await get('/customer/profile/c-1', key);
      expect(res.status, key).to.equal(401);
      expect(res.body.error.message).to.equal('Unknown API key');
    }

    const { key, keyId } = await createApiKey(t.db, { name: 'temp', role: 'support', createdBy: 'test' });
    expect((await get('/customer/profile/c-1', key)).status).to.equal(200);
    await revokeApiKey(t.db, keyId, 'test');
    const revoked = await get('/customer/profile/c-1', key);
    expect(revoked.status).to.equal(401);
    expect(revoked.body.error.message).to.contain('revoked');
    const audit = await t
      .db('audit_log')
      .where({ target: `api_key:${keyId}` })
      .orderBy('id')
      .pluck('action');
    expect(audit).to.deep.equal(['api_key.create', 'api_key.revoke']);
  });

  it('refuses a role that the route does not allow (403)', async () => {
    const res = await get('/models', keys.support);
    expect(res.status).to.equal(403);
    expect(res.body.error).to.include({ code: 'forbidden' });
    expect((await get('/customer/profile/c-1/similar', keys.finance)).status).to.equal(403);
  });

  it('stores only a hash of each key', async () => {
    const rows = await t.db('api_keys').select('*');
    const stored = JSON.stringify(rows);
    for (const key of Object.values(keys)) {
      expect(stored).not.to.contain(key);
      // The secret is everything after fs_<8-hex prefix>_ (it may itself contain '_').
      expect(stored).not.to.contain(key.slice('fs_12345678_'.length));
      expect(rows.map((r) => r.key_hash)).to.include(createHash('sha256').update(key).digest('hex'));
    }
    expect(Object.values(keys).every((k) => /^fs_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/.test(k))).to.equal(true);
  });

  it('serves the latest profile in the consumer shape to every role', async () => {
    for (const role of ROLES) expect((await get('/customer/profile/c-1', keys[role])).status, role).to.equal(200);
    const res = await get('/customer/profile/c-1', keys.support);
    expect(res.body).to.deep.equal({
      customerId: 'c-1',
      asOf: '2026-06-30T00:00:00.000Z',
      computedAt: res.body.computedAt,
      churn: {
        probability: 0.625,
        horizonDays: 90,
        riskBand: 'high',
        drivers: [{ feature: 'days_since_last_order', contribution: 0.8, sentence: 'No order for 120 days.' }],
      },
      clv: {
        expectedNetRevenue: '1234.50',
        interval: { lower: '1000.00', upper: '1500.00', level: 0.9 },
        horizonMonths: 12,
        pAlive: 0.5,
        expectedOrders: 1.5,
        expectedSpendPerOrder: '82.30',
        expectedNextOrderAt: '2026-09-01T00:00:00.000Z',
      },
      segment: {
        name: 'at_risk',
        rfm: { r: 1, f: 3, m: 4 },
        priceSensitive: true,
        clusterId: 2,
        clusterDescription: 'frequent, discount-driven',
      },
      confidence: 'medium',
      coverage: { confidence: 'medium', reasons: ['sparse'], clv: { model: 'baseline', interval: { level: 0.9 } } },
      modelVersions: { churn: { modelId: 1, version: 1 } },
      // The run is months old: past the 7-day freshness contract, so the rule-based fallback comes beside it.
      stale: true,
      ageDays: res.body.ageDays,
      freshnessDays: 7,
      fallback: res.body.fallback,
      openActions: [],
    });
    expect(res.body.ageDays).to.be.above(7);
    expect(res.body.fallback.method).to.equal('recency rule: no completed order for over 90 days');
    expect(res.body.fallback.churnScore).to.be.oneOf([0, 1]);
    expect(new Date(res.body.computedAt).toISOString()).to.equal(res.body.computedAt);
    expect(res.headers.get('cache-control')).to.equal('no-store');

    const withEmbedding = await get('/customer/profile/c-1?include=embedding', keys.ml);
    expect(withEmbedding.body.embedding).to.have.length(16);
    expect(withEmbedding.body.embedding[0]).to.be.closeTo(EMBEDDING[0]!, 1e-6);
    const badInclude = await get('/customer/profile/c-1?include=everything', keys.ml);
    expect(badInclude.status).to.equal(400);
    expect(badInclude.body.error.field).to.equal('include');
  });

  it('prints the same profile document from `foresight profile` as the API serves', async function () {
    this.timeout(60_000);
    for (const [args, path] of [
      [['profile', 'c-1'], '/customer/profile/c-1'],
      [['profile', 'c-1', '--embedding'], '/customer/profile/c-1?include=embedding'],
    ] as const) {
      const api = await get(path, keys.owner);
      expect(api.status).to.equal(200);
      // The API adds the freshness contract and the open actions around the same document.
      const { stale: _stale, ageDays: _age, freshnessDays: _days, fallback: _fallback, openActions: _open, ...document } = api.body;
      expect(JSON.parse(cliStdout([...args], t.url)), args.join(' ')).to.deep.equal(document);
    }
  });

  it('answers 404 for an unknown customer and for one not scored yet, saying which', async () => {
    const unknown = await get('/customer/profile/nobody', keys.owner);
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error).to.deep.include({ code: 'not_found', message: 'Unknown customer nobody' });
    const unscored = await get('/customer/profile/unscored', keys.owner);
    expect(unscored.status).to.equal(404);
    expect(unscored.body.error.message).to.contain('has not been scored yet');
  });

  it('answers 400 naming the parameter for a malformed customer id', async () => {
    for (const id of [encodeURIComponent('bad id!'), encodeURIComponent("x' or 1=1 --"), 'x'.repeat(129)]) {
      const res = await get(`/customer/profile/${id}`, keys.owner);
      expect(res.status, id).to.equal(400);
      expect(res.body.error).to.include({ code: 'invalid_input', field: 'id' });
      expect(res.body.error.message).to.contain('"id"');
    }
  });

  it('finds similar customers by cosine similarity of the latest embeddings', async () => {
    const res = await get('/customer/profile/c-1/similar?k=2', keys.marketing);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ customerId: 'c-1', asOf: '2026-06-30T00:00:00.000Z', k: 2 });
    expect(res.body.similar.map((s: { customerId: string }) => s.customerId)).to.deep.equal(['c-2', 'c-3']);
    expect(res.body.similar[0].similarity).to.be.closeTo(1, 1e-6);
    expect(res.body.similar[0]).to.include({ segment: 'at_risk', riskBand: 'high' });

    const all = await get('/customer/profile/c-1/similar', keys.ml);
    expect(all.body.similar.map((s: { customerId: string }) => s.customerId)).to.deep.equal(['c-2', 'c-3', 'c-4']);
    expect(all.body.similar[2].similarity).to.be.closeTo(-1, 1e-6);

    for (const k of ['0', '101', 'ten', '1.5']) {
      const bad = await get(`/customer/profile/c-1/similar?k=${k}`, keys.owner);
      expect(bad.status, k).to.equal(400);
      expect(bad.body.error.field).to.equal('k');
    }
    expect((await get('/customer/profile/nobody/similar', keys.owner)).status).to.equal(404);
  });

  it('answers 400 for a malformed JSON body', async () => {
    const res = await call(server.url, 'POST', '/models/1/status', { key: keys.owner, raw: '{"status": "champion",' });
    expect(res.status).to.equal(400);
    expect(res.body.error).to.include({ code: 'malformed_json' });
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await call(server.url, 'POST', '/models/1/status', {
      key: keys.owner,
      json: { status: 'shadow', reason: 'x'.repeat(20_000) },
    });
    expect(res.status).to.equal(413);
    expect(res.body.error).to.include({ code: 'payload_too_large' });
  });

  it('answers 404 JSON for an unknown route', async () => {
    const res = await get('/no/such/route', keys.owner);
    expect(res.status).to.equal(404);
    expect(res.body.error).to.include({ code: 'not_found', message: 'No route GET /no/such/route' });
    expect((await call(server.url, 'DELETE', '/models')).status).to.equal(404);
  });

  it('answers 503 dependency_unavailable, never the cause, when the database refuses connections', async () => {
    const db = knex({ client: 'pg', connection: 'postgres://foresight:secret@127.0.0.1:1/nowhere', log: { warn: () => undefined } });
    const brokenLogs = memoryLogger();
    const broken = await startServer(createApp({ db, logger: brokenLogs.logger }), { port: 0, host: '127.0.0.1' });
    try {
      const res = await call(broken.url, 'GET', '/customer/profile/c-1', { key: keys.owner });
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('1');
      expect(res.body.error).to.deep.equal({
        code: 'dependency_unavailable',
        message: 'The database is unavailable or too slow to answer; retry shortly',
        requestId: res.headers.get('x-request-id'),
      });
      const health = await call(broken.url, 'GET', '/health');
      expect(health.status).to.equal(503);
      expect(health.body.error).to.include({ code: 'dependency_unavailable' });
      expect((await call(broken.url, 'GET', '/healthz')).status).to.equal(200);
      for (const r of [res, health]) expect(r.text).not.to.match(/ECONNREFUSED|secret|\n\s+at /);
      // The details are in the log, under the request id the caller was given.
      const logged = brokenLogs.entries.find((e) => e.requestId === res.body.error.requestId) as {
        level: number;
        err: { message: string };
      };
      expect(logged.level).to.equal(50);
      expect(logged.err.message).to.contain('ECONNREFUSED');
    } finally {
      await broken.close();
      await db.destroy();
    }
  });

  it('answers 500 with a generic message and a request id, never the cause, when something unexpected fails', async () => {
    const app = express();
    app.get('/boom', () => {
      throw new Error('secret detail');
    });
    app.use(errorHandler(memoryLogger().logger));
    const boom = await startServer(app, { port: 0, host: '127.0.0.1' });
    try {
      const res = await call(boom.url, 'GET', '/boom');
      expect(res.status).to.equal(500);
      expect(res.body.error).to.include({ code: 'internal', message: 'Internal error; quote the request id when reporting it' });
      expect(res.text).not.to.match(/secret|\n\s+at /);
    } finally {
      await boom.close();
    }
  });

  it('authenticates before reading a body: no key is 401 whatever the body', async () => {
    for (const options of [{ raw: '{"status": "champion",' }, { json: { status: 'shadow', reason: 'x'.repeat(20_000) } }]) {
      const res = await call(server.url, 'POST', '/models/1/status', options);
      expect(res.status).to.equal(401);
      expect(res.body.error).to.include({ code: 'unauthorized' });
      expect((await call(server.url, 'POST', '/models/1/status', { ...options, key: 'fs_00000000_unknown' })).status).to.equal(401);
    }
    expect((await call(server.url, 'POST', '/models/1/status', { key: keys.support, raw: '{' })).status).to.equal(403);
  });

  it('lets ml shadow and owner promote a model, validates the body, and audits each change with the actor', async () => {
    const model = await registerModel(t.db, { kind: 'churn', artifact: { trees: [] }, createdBy: 'trainer' });
    const path = `/models/${model.modelId}/status`;
    const post = (key: string, json: unknown) => call(server.url, 'POST', path, { key, json });

    const listed = await get('/models', keys.ml);
    expect(listed.status).to.equal(200);
    expect(listed.body.models[0]).to.include({ modelId: model.modelId, status: 'candidate' });
    expect(listed.body.models[0]).not.to.have.property('artifact');

    expect((await post(keys.marketing, { status: 'shadow', reason: 'try it' })).status).to.equal(403);
    const early = await post(keys.ml, { status: 'champion', reason: 'looks good' });
    expect(early.status).to.equal(403);
    expect(early.body.error.message).to.contain('owner');

    const shadow = await post(keys.ml, { status: 'shadow', reason: 'compare on live data' });
    expect(shadow.status).to.equal(200);
    expect(shadow.body.model).to.include({ modelId: model.modelId, status: 'shadow', promotedBy: 'ml-key' });
    expect(shadow.body.model).not.to.have.property('artifact');

    const badStatus = await post(keys.owner, { status: 'gold', reason: 'x' });
    expect(badStatus.status).to.equal(400);
    expect(badStatus.body.error.field).to.equal('status');
    expect((await post(keys.owner, { status: 'champion' })).body.error.field).to.equal('reason');
    expect((await post(keys.owner, { status: 'champion', reason: 'x', extra: 1 })).status).to.equal(400);
    const badId = await call(server.url, 'POST', '/models/abc/status', { key: keys.owner, json: { status: 'retired', reason: 'x' } });
    expect(badId.body.error).to.include({ field: 'id' });
    expect(
      (await call(server.url, 'POST', '/models/999999/status', { key: keys.owner, json: { status: 'retired', reason: 'x' } })).status,
    ).to.equal(404);

    const champion = await post(keys.owner, { status: 'champion', reason: 'better AUC in shadow' });
    expect(champion.status).to.equal(200);
    expect(champion.body.model.status).to.equal('champion');
    expect((await post(keys.owner, { status: 'shadow', reason: 'back' })).status).to.equal(409);

    const audit = await t
      .db('audit_log')
      .where({ target: `model:${model.modelId}` })
      .orderBy('id');
    expect(audit.map((a) => [a.actor, a.role, a.action, a.details.from, a.details.to, a.details.reason])).to.deep.equal([
      ['ml-key', 'ml', 'model.status', 'candidate', 'shadow', 'compare on live data'],
      ['owner-key', 'owner', 'model.status', 'shadow', 'champion', 'better AUC in shadow'],
    ]);
    expect(audit[1].ip).to.match(/127\.0\.0\.1/);
    expect(audit.map((a) => [a.details.via, a.details.keyId])).to.deep.equal([
      ['api', 1 + ROLES.indexOf('ml')],
      ['api', 1 + ROLES.indexOf('owner')],
    ]);
    // Exactly one audit row per change, the refused requests left none.
    expect(Number((await t.db('audit_log').where({ action: 'model.status' }).count({ n: '*' }))[0]!.n)).to.equal(2);

    try {
      await t.db('audit_log').where({ id: audit[0].id }).update({ actor: 'someone else' });
      expect.fail('audit_log must refuse updates');
    } catch (err) {
      expect(String(err)).to.contain('append-only');
    }
  });

  it('has an access rule on every route, matching the roles matrix', () => {
    // The routes that predate the decisions API (the README's table lists every route with its roles; the
    // authorisation matrix and the OpenAPI test cover all of them).
    const earlier = [
      '/healthz',
      '/readyz',
      '/health',
      '/me',
      '/overview',
      '/customer/profile/:id',
      '/customer/profile/:id/similar',
      '/models',
      '/models/:id/status',
    ];
    const table = routeTable(createApp({ db: t.db }))
      .filter((r) => earlier.includes(r.path))
      .map((r) => [r.method, r.path, r.access === 'public' ? 'public' : [...r.access!].sort()]);
    expect(table).to.deep.equal([
      ['GET', '/healthz', 'public'],
      ['GET', '/readyz', 'public'],
      ['GET', '/health', 'public'],
      ['GET', '/me', [...ROLES].sort()],
      ['GET', '/overview', ['finance', 'marketing', 'ml', 'owner']],
      ['GET', '/customer/profile/:id', [...ROLES].sort()],
      ['GET', '/customer/profile/:id/similar', ['marketing', 'ml', 'owner']],
      ['GET', '/models', ['ml', 'owner']],
      ['POST', '/models/:id/status', ['ml', 'owner']],
    ]);
  });

  it('refuses to build an app with a route that has no access rule, or one that runs after the handler', () => {
    const auth = createAuth(t.db);
    const bare = express();
    bare.get('/guarded', auth.allow('owner'), (_req, res) => res.end());
    bare.get('/open', (_req, res) => res.end());
    expect(() => assertEveryRouteGuarded(bare)).to.throw('GET /open');

    const late = express();
    late.post('/late', (_req, _res, next) => next(), auth.allow('owner'));
    expect(() => assertEveryRouteGuarded(late)).to.throw('POST /late');

    const nested = express();
    const router = express.Router();
    router.get('/inner', (_req, res) => res.end());
    nested.use('/outer', router);
    expect(() => assertEveryRouteGuarded(nested)).to.throw('GET /inner');

    // A handler mounted with app.use runs before every route's guard, and may answer requests itself.
    const used = express();
    used.use('/admin', function dumpEverything(_req, res) {
      res.end();
    });
    used.get('/guarded', auth.allow('owner'), (_req, res) => res.end());
    expect(() => assertEveryRouteGuarded(used)).to.throw('USE /admin (dumpEverything)');
    const inRouter = express();
    const withUse = express.Router();
    withUse.use((_req, _res, next) => next());
    inRouter.use(withUse);
    expect(() => assertEveryRouteGuarded(inRouter)).to.throw('USE');
    const marked = express();
    marked.use(knownMiddleware((_req: unknown, _res: unknown, next: () => void) => next()));
    marked.get('/guarded', auth.allow('owner'), (_req, res) => res.end());
    expect(() => assertEveryRouteGuarded(marked)).not.to.throw();
  });
});
