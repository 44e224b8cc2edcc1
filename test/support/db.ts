import type { Knex } from 'knex';
import { Client } from 'pg';
import { config } from '../../lib/config';
import { createDb, migrateLatest } from '../../lib/db';
import { databaseUrl, ensureDatabase, postgresDown, postgresStatus, postgresUp, type DatabaseRole } from '../../stack/postgres';

/**
 * Each test file gets its own real Postgres database on the stack's server (embedded, or DATABASE_URL's):
 * created empty, migrated, and dropped after the run.
 */
const created: string[] = [];
let serverReady: Promise<unknown> | undefined;
/** True when this test run started the embedded server: it then stops it at the end, leaving a developer's stack alone. */
let startedByTests = false;

/** The URL of `database` on the stack's server, connecting as `role` (the owner by default). */
export function urlFor(database: string, role: DatabaseRole = 'owner'): string {
  const url = new URL(databaseUrl(config(), config().postgres.database, role));
  url.pathname = `/${database}`;
  return url.toString();
}

export interface TestDatabase {
  db: Knex;
  url: string;
  name: string;
}

export async function freshDatabase(label: string, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  serverReady ??= (async () => {
    const before = await postgresStatus(config());
    await postgresUp(config());
    startedByTests = before.mode === 'embedded' && !before.running;
  })();
  await serverReady;
  const name = `foresight_test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${created.length}`;
  await dropDatabase(name);
  await ensureDatabase(urlFor('postgres'), name);
  created.push(name);
  const url = urlFor(name);
  const db = createDb(url);
  if (options.migrate !== false) await migrateLatest(db);
  return { db, url, name };
}

async function dropDatabase(name: string): Promise<void> {
  const client = new Client({ connectionString: urlFor('postgres') });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
}

export async function dropTestDatabases(): Promise<void> {
  if (!serverReady) return;
  for (const name of created.splice(0)) await dropDatabase(name);
  if (startedByTests) await postgresDown(config());
}
