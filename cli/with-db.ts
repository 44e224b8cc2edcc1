import type { Knex } from 'knex';
import { config, type Config } from '../lib/config';
import { migrateLatest } from '../lib/db';
import { openDb, stackUp, type StackPart } from '../stack';
import type { DatabaseRole } from '../stack/postgres';

/**
 * Brings up what a command needs, migrates the database as its owner, runs `work` on a pool connected as `role`
 * (the owner unless a least-privilege role is asked for), and always closes the pools.
 */
export async function withDatabase<T>(
  work: (db: Knex, cfg: Config) => Promise<T>,
  parts: StackPart[] = ['postgres'],
  role: DatabaseRole = 'owner',
): Promise<T> {
  const cfg = config();
  await stackUp(cfg, parts);
  const owner = openDb(cfg);
  try {
    await migrateLatest(owner);
    if (role === 'owner') return await work(owner, cfg);
    const db = openDb(cfg, role);
    try {
      return await work(db, cfg);
    } finally {
      await db.destroy();
    }
  } finally {
    await owner.destroy();
  }
}
