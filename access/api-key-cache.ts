import type { Knex } from 'knex';
import { Client, type ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { findApiKey, hashApiKey, type ApiKeyInfo } from './api-keys';

/** The channel the api_keys trigger notifies on every change to a key row (migration 20261130000030). */
export const API_KEY_CHANGED_CHANNEL = 'foresight_api_key_changed';
/** The listener's application_name, so that it can be told apart in pg_stat_activity. */
export const API_KEY_LISTENER_NAME = 'foresight api key listener';

/** A valid key is looked up again after this long even without a notification: a bound should one ever be lost. */
const ENTRY_TTL_MS = 60_000;
/** Keys are few (one per person or system); the bound only guards memory against a flood of distinct valid keys. */
const MAX_ENTRIES = 10_000;
const RECONNECT_MS = 1000;
const MAX_RECONNECT_MS = 30_000;

export interface ApiKeyCache {
  /** findApiKey, answered from memory for a valid key seen recently. */
  find(key: string): Promise<ApiKeyInfo | 'unknown' | 'revoked'>;
}

/**
 * Valid API keys by hash, so that an authenticated request costs no key lookup. Only valid keys are kept (unknown and
 * revoked ones are looked up each time, and counted by the caller).
 *
 * Revocation stays immediate: the cache is used only while a connection LISTENing on API_KEY_CHANGED_CHANNEL is up,
 * and every notification empties it. A notification is only queued when the change commits, so before a cached key
 * is trusted, a `select 1` on the listening connection, sent after the request arrived, must come back: Postgres
 * delivers the notifications queued before it ahead of its answer, so a key revoked before the request is never served
 * from memory. That sync is shared by every request that arrived while the previous one was in flight: one tiny
 * query per round trip, instead of a pooled lookup per request.
 *
 * While the listener is down or not yet listening, every request looks its key up as before, and the connection is
 * retried with a backoff (until the pool `db` is destroyed). The listener does not keep the process alive.
 */
export function createApiKeyCache(db: Knex, logger: Logger): ApiKeyCache {
  const entries = new Map<string, { info: ApiKeyInfo; expiresAt: number }>();
  let listener: Client | undefined;
  let listening = false;
  let retrying = false;
  let retryMs = RECONNECT_MS;
  // Counts notifications and losses of the listener: a lookup or sync that saw it change may have read a key before
  // its revocation, so its answer is not trusted.
  let generation = 0;
  let syncInFlight: Promise<void> | undefined;
  let nextSync: Promise<void> | undefined;

  const dropAll = () => {
    generation++;
    entries.clear();
  };
  const poolDestroyed = () => !(db.client as { pool?: unknown }).pool;

  const connect = async () => {
    const settings = db.client.connectionSettings as ClientConfig;
    // Knex keeps the password as a hidden (non-enumerable) property, which a spread would leave out.
    const client = new Client({ ...settings, password: settings.password, application_name: API_KEY_LISTENER_NAME });
    listener = client;
    const lost = (err?: unknown) => {
      if (listener !== client) return;
      listening = false;
      listener = undefined;
      dropAll();
      client.removeAllListeners();
      client.on('error', () => undefined);
      void client.end().catch(() => undefined);
      if (poolDestroyed()) return;
      logger.warn({ err, retryMs }, 'API key change listener lost: keys are looked up on every request until it is back');
      retrying = true;
      setTimeout(() => {
        retrying = false;
        void connect();
      }, retryMs).unref();
      retryMs = Math.min(retryMs * 2, MAX_RECONNECT_MS);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      if (message.channel === API_KEY_CHANGED_CHANNEL) dropAll();
    });
    try {
      await client.connect();
      // An idle listener must not keep the process (a test, a stopped server) alive.
      (client as unknown as { connection: { stream: { unref(): void } } }).connection.stream.unref();
      await client.query(`listen ${API_KEY_CHANGED_CHANNEL}`);
      if (listener !== client) return;
      listening = true;
      retryMs = RECONNECT_MS;
    } catch (err) {
      lost(err);
    }
  };

  const sync = (): Promise<void> => {
    const client = listener;
    if (!client) return Promise.reject(new Error('not listening'));
    syncInFlight = client.query('select 1').then(
      () => {
        syncInFlight = undefined;
      },
      (err: unknown) => {
        syncInFlight = undefined;
        throw err;
      },
    );
    return syncInFlight;
  };
  /** Resolves once a sync sent after this call has come back (every notification queued before it has arrived). */
  const barrier = (): Promise<void> => {
    if (!syncInFlight) return sync();
    nextSync ??= syncInFlight
      .catch(() => undefined)
      .then(() => {
        nextSync = undefined;
        return sync();
      });
    return nextSync;
  };

  const lookUp = async (hash: string, key: string, now: number) => {
    const before = listening ? generation : undefined;
    const found = await findApiKey(db, key);
    // Kept only if the listener was up, and heard nothing, for the whole lookup.
    if (typeof found === 'object' && listening && generation === before) {
      if (entries.size >= MAX_ENTRIES) dropAll();
      entries.set(hash, { info: found, expiresAt: now + ENTRY_TTL_MS });
    }
    return found;
  };

  return {
    async find(key) {
      const hash = hashApiKey(key);
      const now = Date.now();
      if (!listener && !retrying) void connect();
      const hit = listening ? entries.get(hash) : undefined;
      if (!hit || hit.expiresAt <= now) return lookUp(hash, key, now);
      const before = generation;
      const synced = await barrier().then(
        () => true,
        () => false,
      );
      // A notification (or a lost listener) meanwhile may concern this key: look it up.
      return synced && generation === before ? hit.info : lookUp(hash, key, now);
    },
  };
}
