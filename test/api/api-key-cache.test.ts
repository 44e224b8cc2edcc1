import { expect } from 'chai';
import { createApp } from '../../api/app';
import { createApiKey, revokeApiKey } from '../../access/api-keys';
import { CHANGE_LISTENER_NAME } from '../../lib/change-listener';
import { startServer, type RunningServer } from '../../api/server';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { until } from '../support/net';

/**
 * The API keeps valid keys in memory (access/api-key-cache.ts) while it listens for key changes: a key changed in any
 * way after it was cached — revoked by the CLI's function, revoked or deleted by hand in SQL — is refused by the next
 * request, and a lost listener comes back.
 */
describe('API key cache', () => {
  let t: TestDatabase;
  let server: RunningServer;
  const logs = memoryLogger();
  const me = (key: string) => call(server.url, 'GET', '/me', { key });
  /** The process id of the app's listening connection, once it listens (it has sent LISTEN, and it is idle). */
  const listenerPid = async (): Promise<number | undefined> => {
    const row = (await t
      .db('pg_stat_activity')
      .where({ datname: t.db.raw('current_database()'), application_name: CHANGE_LISTENER_NAME })
      .where({ state: 'idle' })
      .whereNot({ query: '' })
      .first('pid')) as { pid: number } | undefined;
    return row?.pid;
  };
  /** A new key, used until the app listens and then once more, so that the app now holds it in memory. */
  const cachedKey = async (name: string) => {
    const created = await createApiKey(t.db, { name, role: 'support', createdBy: 'test' });
    expect((await me(created.key)).status).to.equal(200);
    await until('the API listens for key changes', async () => (await listenerPid()) !== undefined, 10_000);
    expect((await me(created.key)).body).to.include({ name, role: 'support' });
    return created;
  };

  before(async () => {
    t = await freshDatabase('api_key_cache');
    server = await startServer(createApp({ db: t.db, logger: logs.logger }), { port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  it('refuses a cached key at once after revokeApiKey', async () => {
    const { key, keyId } = await cachedKey('revoked-by-cli');
    await revokeApiKey(t.db, keyId, 'test');
    const res = await me(key);
    expect(res.status).to.equal(401);
    expect(res.body.error.message).to.contain('revoked');
  });

  it('refuses a cached key at once after a revocation or a delete by hand in SQL', async () => {
    const revoked = await cachedKey('revoked-by-hand');
    await t.db('api_keys').where({ key_id: revoked.keyId }).update({ revoked_at: t.db.fn.now() });
    expect((await me(revoked.key)).body.error.message).to.contain('revoked');

    const deleted = await cachedKey('deleted-by-hand');
    await t.db('api_keys').where({ key_id: deleted.keyId }).delete();
    const res = await me(deleted.key);
    expect(res.status).to.equal(401);
    expect(res.body.error.message).to.equal('Unknown API key');
  });

  it('listens again after losing its connection, and refuses a key revoked after that', async () => {
    const { key, keyId } = await cachedKey('after-reconnect');
    const first = (await listenerPid())!;
    await t.db.raw('select pg_terminate_backend(?)', [first]);
    // Meanwhile keys are looked up on every request.
    expect((await me(key)).status).to.equal(200);
    await until('the API listens again', async () => ![undefined, first].includes(await listenerPid()), 10_000);
    expect(logs.entries.some((e) => String(e.msg).startsWith('Change listener lost'))).to.equal(true);
    expect((await me(key)).status).to.equal(200);
    await t.db('api_keys').where({ key_id: keyId }).update({ revoked_at: t.db.fn.now() });
    expect((await me(key)).status).to.equal(401);
  });
});
