import type { Knex } from 'knex';
import { Client } from 'pg';
import type { Config } from '../lib/config';
import { createDb, migrateLatest } from '../lib/db';
import { databaseUrl, ensureDatabase } from '../stack/postgres';

/** A benchmark's own database on the stack's server: dropped if it is there, created empty and migrated. */
export async function scratchDatabase(cfg: Config, dbName: string): Promise<Knex> {
  const admin = new Client({ connectionString: databaseUrl(cfg, 'postgres') });
  await admin.connect();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
  await ensureDatabase(databaseUrl(cfg, 'postgres'), dbName);
  const db = createDb(databaseUrl(cfg, dbName));
  await migrateLatest(db);
  return db;
}
