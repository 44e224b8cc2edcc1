import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createApp } from '../../api/app';
import { openApiDatabases, type ApiDatabases } from '../../api/database';
import { startServer, type RunningServer } from '../../api/server';
import { createApiKey } from '../../access/api-keys';
import { config, loadConfig } from '../../lib/config';
import { createDb, migrateLatest } from '../../lib/db';
import { classifyError, DependencyError } from '../../lib/errors';
import { databaseUrl, postgresDown, postgresUp } from '../../stack/postgres';
import { freePort } from '../support/net';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger, type Reply } from '../support/http';

async function timed(request: Promise<Reply>): Promise<Reply & { ms: number }> {
  const started = Date.now();
  const reply = await request;
  return { ...reply, ms: Date.now() - started };
}

describe('API under a slow, busy or absent database', () => {
  let t: TestDatabase;
  let key: string;

  before(async () => {
    t = await freshDatabase('api_degradation');
    key = (await createApiKey(t.db, { name: 'support', role: 'support', createdBy: 'test' })).key;
  });

  after(async () => {
    await t?.db.destroy();
  });

  it('cancels API statements after the configured statement timeout, as a dependency error', async () => {
    const api = openApiDatabases(t.url, { ...config().api, statementTimeoutMs: 300 });
    try {
      expect((await api.db.raw('show statement_timeout')).rows[0].statement_timeout).to.equal('300ms');
      const started = Date.now();
      const err: unknown = await api.db.raw('select pg_sleep(3)').then(
        () => expect.fail('the statement should have been cancelled'),
        (e: unknown) => e,
      );
      expect(Date.now() - started).to.be.below(1500);
      expect((err as { code: string }).code).to.equal('57014');
      expect(classifyError(err)).to.be.instanceOf(DependencyError);
    } finally {
      await api.destroy();
    }
  });

  it('answers readiness within 2 s, and other requests 503, while every main-pool connection is busy', async () => {
    const api = openApiDatabases(t.url, { ...config().api, poolMax: 2, statementTimeoutMs: 10_000, acquireTimeoutMs: 500 });
    const server = await startServer(createApp({ db: api.db, health: api.health, logger: memoryLogger().logger }), {
      port: 0,
      host: '127.0.0.1',
    });
    try {
      // Promise.all runs the (lazy) queries now: both connections of the main pool sleep for 4 s.
      const busy = Promise.all([api.db.raw('select pg_sleep(4)'), api.db.raw('select pg_sleep(4)')]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const ready = await timed(call(server.url, 'GET', '/readyz'));
      expect(ready.status).to.equal(200);
      expect(ready.ms).to.be.below(2000);
      const starved = await timed(call(server.url, 'GET', '/customer/profile/c-1', { key }));
      expect(starved.status).to.equal(503);
      expect(starved.body.error.code).to.equal('dependency_unavailable');
      expect(starved.ms).to.be.below(2000);
      await busy;
    } finally {
      await server.close();
      await api.destroy();
    }
  });

  describe('with its own Postgres server, stopped mid-request and restarted', () => {
    let home: string;
    let cfg: ReturnType<typeof loadConfig>;
    let api: ApiDatabases | undefined;
    let server: RunningServer | undefined;
    let ownKey: string;

    before(async function () {
      this.timeout(180_000);
      home = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-outage-'));
      fs.chmodSync(home, 0o755); // run as root, Postgres runs as the postgres user, who must reach the data folder
      cfg = loadConfig({ ...process.env, FORESIGHT_HOME: home, DATABASE_URL: '', FORESIGHT_PG_PORT: String(await freePort()) });
      await postgresUp(cfg);
      const owner = createDb(databaseUrl(cfg));
      try {
        await migrateLatest(owner);
        ownKey = (await createApiKey(owner, { name: 'support', role: 'support', createdBy: 'test' })).key;
        await owner('customers').insert({ customer_id: 'c-1' });
      } finally {
        await owner.destroy();
      }
      api = openApiDatabases(databaseUrl(cfg), { ...cfg.api, acquireTimeoutMs: 1000 });
      server = await startServer(createApp({ db: api.db, health: api.health, logger: memoryLogger().logger }), {
        port: 0,
        host: '127.0.0.1',
      });
    });

    after(async function () {
      this.timeout(60_000);
      await server?.close();
      await api?.destroy();
      await postgresDown(cfg);
      fs.rmSync(home, { recursive: true, force: true });
    });

    it('answers 503 within 2 s while the database is down, and 200 again after it restarts', async function () {
      this.timeout(120_000);
      const url = server!.url;
      const profile = () => timed(call(url, 'GET', '/customer/profile/c-1', { key: ownKey }));
      // c-1 is known but not scored: 404 is the healthy answer.
      expect((await profile()).status).to.equal(404);

      // Requests keep arriving while the server shuts down (pg_ctl stop -m fast: SIGINT).
      const during: (Reply & { ms: number })[] = [];
      let stopping = true;
      const traffic = (async () => {
        while (stopping) during.push(...(await Promise.all([profile(), profile(), timed(call(url, 'GET', '/readyz'))])));
      })();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await postgresDown(cfg);
      await new Promise((resolve) => setTimeout(resolve, 500));
      stopping = false;
      await traffic;
      expect(
        during.some((r) => r.status === 503),
        'some requests met the stopped server',
      ).to.equal(true);
      for (const r of during) {
        expect(r.status, r.text).to.be.oneOf([200, 404, 503]);
        expect(r.ms).to.be.below(2000);
      }

      for (const path of ['/customer/profile/c-1', '/readyz', '/health']) {
        const down = await timed(call(url, 'GET', path, { key: ownKey }));
        expect(down.status, path).to.equal(503);
        expect(down.body.error.code).to.equal('dependency_unavailable');
        expect(down.headers.get('retry-after')).to.equal('1');
        expect(down.ms, path).to.be.below(2000);
      }
      expect((await call(url, 'GET', '/healthz')).status).to.equal(200);

      await postgresUp(cfg);
      // The pool drops the dead connections and opens new ones: the first request after the restart already succeeds.
      expect((await profile()).status).to.equal(404);
      expect((await call(url, 'GET', '/readyz')).status).to.equal(200);
      for (let i = 0; i < 5; i++) expect((await profile()).status).to.equal(404);
    });
  });
});
