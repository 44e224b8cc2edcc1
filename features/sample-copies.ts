import knex, { type Knex } from 'knex';
import { customerIdHash, type TrainingSample } from './training-sample';

/**
 * Copies of a training sample's rows, so that training's dozens of sampled statements (a feature snapshot and purchase
 * histories per churn cutoff, a CLV summary per backtest origin) each scan the sample's tenth of the orders instead of
 * all of them: at 20 M orders a cutoff's purchase histories took 6.2 s over every order and 1.1 s over the copy, and
 * the copies themselves 4.2 s, once per training (bench/RESULTS.md, `--shop=heavy`).
 *
 * The copies are temporary tables named like the tables they copy, on one connection of their own: Postgres looks a
 * session's temporary tables up first, so the sampled statements run unchanged on that connection. They still filter by
 * the sample, so they read the same rows from a copy as from the full table; a connection lost and replaced without
 * its copies gives the same answers, only slower. Nothing but the sampled statements ever runs on it (sampleDb below).
 * Temporary tables need only the TEMPORARY privilege every role has by default, are seen by no other session, and go
 * with their connection, even when the process dies: nothing to clean up.
 */

/** The tables the sampled statements read (features/sql.ts, features/clv-summary.ts), copied for the sample. */
const COPIES: { table: string; rows: (schema: string) => string }[] = [
  { table: 'customers', rows: (s) => `select * from ${s}.customers where ${customerIdHash('customer_id')} < :sample_hash_below` },
  { table: 'orders', rows: (s) => `select o.* from ${s}.orders o join pg_temp.customers c on c.customer_id = o.customer_id` },
  { table: 'order_items', rows: (s) => `select i.* from ${s}.order_items i join pg_temp.orders o on o.order_id = i.order_id` },
  { table: 'returns', rows: (s) => `select r.* from ${s}.returns r join pg_temp.customers c on c.customer_id = r.customer_id` },
  { table: 'sessions', rows: (s) => `select x.* from ${s}.sessions x join pg_temp.customers c on c.customer_id = x.customer_id` },
];

const connections = new WeakMap<TrainingSample, Knex>();

/** Where a sampled statement runs: the sample's copies when they are open, else `db` (the full tables, filtered). */
export function sampleDb(db: Knex, sample: TrainingSample | null | undefined): Knex {
  return (sample && connections.get(sample)) ?? db;
}

/**
 * Copies the sample's rows on a connection of their own, used by sampleDb(db, sample) until the returned close() ends
 * the connection and its copies.
 */
export async function openSampleCopies(
  db: Knex,
  sample: TrainingSample,
): Promise<{ rows: Record<string, number>; close: () => Promise<void> }> {
  const { config } = db.client as { config: Knex.Config };
  // One connection, so every statement sees the copies; statements queue for it (the wait is the work of those before).
  const copies = knex({ ...config, pool: { min: 1, max: 1 }, acquireConnectionTimeout: 6 * 3600_000 });
  try {
    const schema = (await copies.raw<{ rows: { schema: string }[] }>('select quote_ident(current_schema()) as schema')).rows[0]!.schema;
    // Temporary tables are cached in this session's own buffers (8 MB by default), set before the first one is made.
    await copies.raw(`set temp_buffers = '256MB'`);
    const rows: Record<string, number> = {};
    for (const { table, rows: select } of COPIES) {
      const made = await copies.raw(`create temp table ${table} as ${select(schema)}`, { sample_hash_below: sample.hashBelow });
      rows[table] = (made as { rowCount: number }).rowCount;
      // Temporary tables are never analyzed by autovacuum; the planner needs their sizes.
      await copies.raw(`analyze pg_temp.${table}`);
    }
    connections.set(sample, copies);
    return {
      rows,
      close: async () => {
        connections.delete(sample);
        await copies.destroy();
      },
    };
  } catch (err) {
    await copies.destroy();
    throw err;
  }
}
