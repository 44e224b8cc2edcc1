import type { Knex } from 'knex';
import { config, type Config } from '../lib/config';
import { migrateLatest } from '../lib/db';
import { openDb, stackUp, type StackPart } from '../stack';

/** Brings up what a command needs, opens the migrated database, runs `work`, and always closes the pool. */
export async function withDatabase<T>(work: (db: Knex, cfg: Config) => Promise<T>, parts: StackPart[] = ['postgres']): Promise<T> {
  const cfg = config();
  await stackUp(cfg, parts);
  const db = openDb(cfg);
  try {
    await migrateLatest(db);
    return await work(db, cfg);
  } finally {
    await db.destroy();
  }
}
