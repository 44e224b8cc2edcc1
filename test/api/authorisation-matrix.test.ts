import { expect } from 'chai';
import { createApp } from '../../api/app';
import { routeTable, type RouteEntry } from '../../api/route-table';
import { startServer, type RunningServer } from '../../api/server';
import { createApiKey, revokeApiKey } from '../../access/api-keys';
import { ROLES, type Role } from '../../lib/roles';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

type Credential = { label: string; authorization?: string; role?: Role };

/**
 * Every route of the app (read from its router, so a new route is covered without editing this test) × every kind of
 * caller × every method: 401 for no, malformed, unknown or revoked keys; 403 for a role the route does not allow;
 * anything but 401/403 for a role it allows; public routes never ask for a key; a method a path does not have is 404.
 */
describe('Authorisation matrix over every route', () => {
  let t: TestDatabase;
  let server: RunningServer;
  let routes: RouteEntry[];
  const credentials: Credential[] = [];

  before(async () => {
    t = await freshDatabase('authz_matrix');
    const app = createApp({ db: t.db, logger: memoryLogger().logger, similarPerSecond: 10_000 });
    routes = routeTable(app);
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    const revoked = await createApiKey(t.db, { name: 'revoked', role: 'owner', createdBy: 'test' });
    await revokeApiKey(t.db, revoked.keyId, 'test');
    credentials.push(
      { label: 'no key' },
      { label: 'empty header', authorization: '' },
      { label: 'Basic scheme', authorization: `Basic ${Buffer.from('owner:secret').toString('base64')}` },
      { label: 'Bearer without key', authorization: 'Bearer' },
      { label: 'two tokens', authorization: 'Bearer fs_00000000_a fs_00000000_b' },
      { label: 'unknown key', authorization: `Bearer fs_0123abcd_${'A'.repeat(43)}` },
      { label: 'not a key', authorization: 'Bearer hello' },
      { label: 'revoked key', authorization: `Bearer ${revoked.key}` },
    );
    for (const role of ROLES) {
      const { key } = await createApiKey(t.db, { name: `${role}-key`, role, createdBy: 'test' });
      credentials.push({ label: role, authorization: `Bearer ${key}`, role });
    }
  });

  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  it('covers the routes the app has', () => {
    expect(routes.map((r) => `${r.method} ${r.path}`)).to.include.members([
      'GET /healthz',
      'GET /readyz',
      'GET /health',
      'GET /customer/profile/:id',
      'GET /customer/profile/:id/similar',
      'GET /customer/:id/timeline',
      'GET /customer/:id/scores',
      'GET /models',
      'POST /models/:id/status',
      'GET /models/:id/shadow-report',
      'POST /models/:id/promotion',
      'POST /models/:kind/rollback',
      'GET /me',
      'GET /overview',
      'GET /approvals',
      'POST /approvals/:actionId/approve',
      'POST /approvals/:actionId/reject',
      'POST /approvals/:actionId/override',
      'POST /approvals/bulk',
      'GET /policies',
      'POST /policies/:policyKey/drafts',
      'POST /policies/versions/:versionId/simulate',
      'GET /policies/versions/:versionId/diff',
      'GET /policies/versions/:versionId/threshold-costs',
      'GET /insights',
      'GET /suppressions',
      'POST /kill-switch',
      'POST /webhooks/subscriptions',
      'POST /webhooks/deliveries/:deliveryId/replay',
      'GET /webhooks/dead-letters',
      'GET /decisions/:actionId',
      'GET /scoring-runs',
      'GET /customer/profile',
      'GET /metrics',
      'GET /monitoring',
      'GET /monitoring/outcomes',
      'POST /alerts/:alertId/resolve',
      'GET /impact',
      'GET /impact/versions',
      'GET /finance',
      'GET /openapi.json',
    ]);
  });

  it('answers each caller as the route allows, for every method', async () => {
    const paths = [...new Set(routes.map((r) => r.path))];
    let checked = 0;
    for (const path of paths) {
      const concrete = path.replace(/:[A-Za-z]+/g, '1');
      for (const method of METHODS) {
        const route = routes.find((r) => r.path === path && r.method === method);
        for (const credential of credentials) {
          const what = `${method} ${path} with ${credential.label}`;
          const res = await call(server.url, method, concrete, {
            authorization: credential.authorization,
            ...(method === 'GET' ? {} : { json: {} }),
          });
          checked++;
          if (!route) {
            expect(res.status, what).to.equal(404);
            continue;
          }
          const access = route.access!;
          if (access === 'public') expect(res.status, what).not.to.be.oneOf([401, 403]);
          else if (!credential.role) {
            expect(res.status, what).to.equal(401);
            expect(res.body.error.code, what).to.equal('unauthorized');
          } else if (!access.includes(credential.role)) {
            expect(res.status, what).to.equal(403);
            expect(res.body.error.code, what).to.equal('forbidden');
          } else expect(res.status, what).not.to.be.oneOf([401, 403]);
        }
      }
    }
    expect(checked).to.equal(paths.length * METHODS.length * credentials.length);
  });
});
