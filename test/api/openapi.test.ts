import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import { createApp } from '../../api/app';
import { openApiPath } from '../../api/openapi';
import { routeTable } from '../../api/route-table';
import { startServer, type RunningServer } from '../../api/server';
import { createApiKey } from '../../access/api-keys';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';

/** The document at /openapi.json is valid OpenAPI 3.1 and has exactly the router's routes, with their roles. */
describe('OpenAPI document and metrics', () => {
  let t: TestDatabase;
  let server: RunningServer;
  let routes: ReturnType<typeof routeTable>;

  before(async () => {
    t = await freshDatabase('openapi');
    const app = createApp({ db: t.db, logger: memoryLogger().logger });
    routes = routeTable(app);
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  it('validates as OpenAPI 3.1 and covers every route of the router, no more', async () => {
    const res = await call(server.url, 'GET', '/openapi.json');
    expect(res.status).to.equal(200);
    const validator = new Validator();
    const result = await validator.validate(res.body);
    expect(result.valid, JSON.stringify(result.errors)).to.equal(true);
    expect(res.body.openapi).to.equal('3.1.0');
    const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).to.deep.equal(routes.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
    // The roles documented are the roles enforced.
    for (const r of routes) {
      const op = res.body.paths[openApiPath(r.path)][r.method.toLowerCase()];
      expect(op.description, `${r.method} ${r.path}`).to.equal(
        r.access === 'public' ? 'No key needed.' : `Roles: ${(r.access as string[]).join(', ')}.`,
      );
    }
    // The body schema is the one that validates: the override's channel enum and required reason.
    const override = res.body.paths['/approvals/{actionId}/override'].post.requestBody.content['application/json'].schema;
    expect(override.required).to.include('reason');
    expect(override.properties.channel.enum).to.include('email');
  });

  it('serves Prometheus metrics to admin and service keys only, with request latency by route pattern', async () => {
    const admin = (await createApiKey(t.db, { name: 'admin', role: 'admin', createdBy: 'test' })).key;
    const viewer = (await createApiKey(t.db, { name: 'viewer', role: 'viewer', createdBy: 'test' })).key;
    await call(server.url, 'GET', '/decisions/12345', { key: admin });
    expect((await call(server.url, 'GET', '/metrics', { key: viewer })).status).to.equal(403);
    const res = await call(server.url, 'GET', '/metrics', { key: admin });
    expect(res.status).to.equal(200);
    expect(res.text).to.match(/foresight_http_request_duration_seconds_bucket\{[^}]*route="\/decisions\/:actionId"[^}]*status="404"/);
    expect(res.text).to.match(/^foresight_approvals_pending 0$/m);
    expect(res.text).to.include('# TYPE foresight_webhook_deliveries gauge');
    expect(res.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });
});
