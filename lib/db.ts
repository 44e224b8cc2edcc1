import type { PoolClient } from 'pg';
import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';

// Postgres returns numeric as strings on purpose: money stays exact until a caller decides how to sum it.
const migrationsDir = path.resolve(__dirname, '..', 'migrations');
const migrationExtension = path.extname(__filename); // .ts under tsx, .js once compiled

export function createDb(url: string, pool: Knex.PoolConfig = { min: 0, max: 8 }): Knex {
  return knex({ client: 'pg', connection: url, pool });
}

/**
 * Migrations are named without their extension, so a database migrated by the compiled CLI (.js) and by the
 * tests under tsx (.ts) agrees on what has run.
 */
const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return fs
      .readdirSync(migrationsDir)
      .filter((f) => f.endsWith(migrationExtension) && !f.endsWith('.d.ts'))
      .map((f) => path.basename(f, migrationExtension))
      .sort();
  },
  getMigrationName: (name) => name,
  async getMigration(name) {
    // require, not import(): under the tests' CommonJS loader (tsx/cjs) import() of a .ts file is not transpiled.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(migrationsDir, name + migrationExtension)) as Knex.Migration;
  },
};

const migrationConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/**
 * Applies pending migrations. Processes that start together (workers, the API) take turns on a session advisory lock
 * held on a connection of its own: knex's own lock makes a second migrator fail ("already locked", or a race on
 * creating knex_migrations) instead of waiting; the later ones then find nothing to do.
 */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const lock = (await db.client.acquireConnection()) as PoolClient;
  try {
    await lock.query(`select pg_advisory_lock(hashtext('foresight:migrations'))`);
    try {
      const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
      return applied;
    } finally {
      await lock.query(`select pg_advisory_unlock(hashtext('foresight:migrations'))`);
    }
  } finally {
    await db.client.releaseConnection(lock);
  }
}

export async function migrateRollbackAll(db: Knex): Promise<string[]> {
  const [, rolledBack] = (await db.migrate.rollback(migrationConfig, true)) as [number, string[]];
  return rolledBack;
}
