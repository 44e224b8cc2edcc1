import knex, { type Knex } from 'knex';
import type { Config } from '../lib/config';
import { log } from '../lib/log';

/**
 * The API's two connection pools. Requests use `db`: its statements are cancelled by Postgres after the statement
 * timeout and a request waits at most the acquire timeout for a connection, so a slow or absent database turns into
 * a prompt 503 instead of a hung request. Health and readiness probes use `health`, two connections of their own, so
 * that they still answer when every connection of `db` is busy.
 */
export interface ApiDatabases {
  db: Knex;
  health: Knex;
  destroy(): Promise<void>;
}

/** Health checks must answer within two seconds in all: each step gets well under that. */
const HEALTH_TIMEOUT_MS = 1000;

function pool(url: string, options: { max: number; statementTimeoutMs: number; acquireTimeoutMs: number }): Knex {
  return knex({
    client: 'pg',
    // statement_timeout is sent in the startup packet: every connection has it from its first statement.
    connection: { connectionString: url, statement_timeout: options.statementTimeoutMs, connectionTimeoutMillis: options.acquireTimeoutMs },
    pool: { min: 0, max: options.max },
    acquireConnectionTimeout: options.acquireTimeoutMs,
    // Knex writes to the console by default; its warnings (each failed connection attempt while the database is down)
    // belong in the log, where the request's own error is reported once with its request id.
    log: {
      warn: (message: unknown) => log.debug({ knex: String(message) }, 'knex warning'),
      error: (message: unknown) => log.error({ knex: String(message) }, 'knex error'),
      deprecate: (message: unknown) => log.warn({ knex: String(message) }, 'knex deprecation'),
      debug: (message: unknown) => log.debug({ knex: String(message) }, 'knex debug'),
    },
  });
}

export function openApiDatabases(url: string, settings: Config['api']): ApiDatabases {
  const db = pool(url, {
    max: settings.poolMax,
    statementTimeoutMs: settings.statementTimeoutMs,
    acquireTimeoutMs: settings.acquireTimeoutMs,
  });
  const health = pool(url, { max: 2, statementTimeoutMs: HEALTH_TIMEOUT_MS, acquireTimeoutMs: HEALTH_TIMEOUT_MS });
  return { db, health, destroy: async () => void (await Promise.all([db.destroy(), health.destroy()])) };
}
