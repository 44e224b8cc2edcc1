import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { Client, type ClientConfig } from 'pg';
import type { Logger } from 'pino';

/** The listener's application_name, so that it can be told apart in pg_stat_activity. */
export const CHANGE_LISTENER_NAME = 'foresight api change listener';

const RECONNECT_MS = 1000;
const MAX_RECONNECT_MS = 30_000;

export interface ChangeListener {
  /**
   * Calls `changed` on every notification on `channel`, and whenever the listener is lost (anything may have changed
   * meanwhile). Every channel is subscribed before the listener first connects (the first call of listening()).
   */
  subscribe(channel: string, changed: () => void): void;
  /** Whether the connection listens on every channel now; connects it (once, in the background) if it does not. */
  listening(): boolean;
  /**
   * Resolves once a sync sent at or after `since` (performance.now(); default: now) has come back on the listening
   * connection, so that every notification committed before `since` has been delivered; rejects if the listener is
   * down or is lost meanwhile.
   */
  barrier(since?: number): Promise<void>;
}

/**
 * One LISTENing connection shared by the API's in-memory caches (API keys, served profiles): each subscribes to the
 * channel its tables' triggers notify and empties itself on a notification or a loss of the connection.
 *
 * A notification is only queued when its transaction commits, and Postgres delivers the notifications queued before
 * a query's answer ahead of it. So a cache entry is trusted only after a `select 1` sent on this connection after the
 * request arrived has come back: a change committed before the request is never answered from memory. That sync is
 * shared by every request that arrived while the previous one was in flight (one tiny query per round trip), and a
 * request whose arrival precedes a sync already answered (its key's check came first) waits for none.
 *
 * While the listener is down or not yet listening, the caches read the database on every request, and the connection
 * is retried with a backoff (until the pool `db` is destroyed). The listener does not keep the process alive.
 */
export function createChangeListener(db: Knex, logger: Logger): ChangeListener {
  const subscribers = new Map<string, (() => void)[]>();
  let listener: Client | undefined;
  let connected = false;
  let retrying = false;
  let retryMs = RECONNECT_MS;
  let syncInFlight: Promise<void> | undefined;
  let nextSync: Promise<void> | undefined;
  // When the newest answered sync was sent (performance.now()).
  let answeredSyncSentAt = -Infinity;

  const dropAll = () => {
    for (const changed of subscribers.values()) for (const c of changed) c();
  };
  const poolDestroyed = () => !(db.client as { pool?: unknown }).pool;

  const connect = async () => {
    const settings = db.client.connectionSettings as ClientConfig;
    // Knex keeps the password as a hidden (non-enumerable) property, which a spread would leave out.
    const client = new Client({ ...settings, password: settings.password, application_name: CHANGE_LISTENER_NAME });
    listener = client;
    const lost = (err?: unknown) => {
      if (listener !== client) return;
      connected = false;
      listener = undefined;
      answeredSyncSentAt = -Infinity;
      dropAll();
      client.removeAllListeners();
      client.on('error', () => undefined);
      void client.end().catch(() => undefined);
      if (poolDestroyed()) return;
      logger.warn({ err, retryMs }, 'Change listener lost: API keys and profiles are read from the database until it is back');
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
      for (const changed of subscribers.get(message.channel) ?? []) changed();
    });
    try {
      await client.connect();
      // An idle listener must not keep the process (a test, a stopped server) alive.
      (client as unknown as { connection: { stream: { unref(): void } } }).connection.stream.unref();
      await client.query([...subscribers.keys()].map((channel) => `listen ${channel};`).join(' '));
      if (listener !== client) return;
      connected = true;
      retryMs = RECONNECT_MS;
    } catch (err) {
      lost(err);
    }
  };

  const sync = (): Promise<void> => {
    const client = listener;
    if (!client || !connected) return Promise.reject(new Error('not listening'));
    const sentAt = performance.now();
    syncInFlight = client.query('select 1').then(
      () => {
        syncInFlight = undefined;
        if (listener === client) answeredSyncSentAt = Math.max(answeredSyncSentAt, sentAt);
      },
      (err: unknown) => {
        syncInFlight = undefined;
        throw err;
      },
    );
    return syncInFlight;
  };

  return {
    subscribe(channel, changed) {
      if (listener) throw new Error(`subscribe to ${channel} before the change listener connects`);
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
      subscribers.set(channel, [...(subscribers.get(channel) ?? []), changed]);
    },
    listening() {
      if (!listener && !retrying) void connect();
      return connected;
    },
    barrier(since = performance.now()) {
      if (connected && answeredSyncSentAt >= since) return Promise.resolve();
      if (!syncInFlight) return sync();
      nextSync ??= syncInFlight
        .catch(() => undefined)
        .then(() => {
          nextSync = undefined;
          return sync();
        });
      return nextSync;
    },
  };
}
