import type { Knex } from 'knex';

/*
 * How far the shop's outcomes are known: up to the newest completed export of the entity they come from
 * (ingest_batches.exported_at). Not the clock: a late feed must not look like churn, and a simulated or replayed
 * history matures when its data says so. One rule for every reader that asks whether a horizon has passed.
 */

/** Purchases (churn, retention) are known up to the newest completed orders export; null before any. */
export async function ordersKnownUntil(db: Knex): Promise<Date | null> {
  const { rows } = await db.raw<{ rows: { known: Date | null }[] }>(
    `select max(exported_at) as known from ingest_batches where status = 'completed' and entity = 'orders'`,
  );
  return rows[0]?.known ?? null;
}

/** Net revenue (orders less returns) is known up to the older of the newest orders and returns exports. */
export async function outcomesKnownUntil(db: Knex): Promise<Date | null> {
  const { rows } = await db.raw<{ rows: { known: Date | null }[] }>(
    `select least(max(exported_at) filter (where entity = 'orders'),
                  coalesce(max(exported_at) filter (where entity = 'returns'), max(exported_at) filter (where entity = 'orders'))) as known
       from ingest_batches where status = 'completed'`,
  );
  return rows[0]?.known ?? null;
}
