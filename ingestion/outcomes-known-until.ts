import type { Knex } from 'knex';

/**
 * How far the shop's outcomes are known: the newest completed orders export (ingest_batches.exported_at), or the
 * returns export if that is older (net revenue needs both). Null before any orders export. Not the clock: a late feed
 * must not look like churn, and a simulated or replayed history matures when its data says so. One rule for every
 * reader that asks whether a horizon has passed (calibration over time, impact, threshold costs).
 */
export async function outcomesKnownUntil(db: Knex): Promise<Date | null> {
  const { rows } = await db.raw<{ rows: { known: Date | null }[] }>(
    `select least(max(exported_at) filter (where entity = 'orders'),
                  coalesce(max(exported_at) filter (where entity = 'returns'), max(exported_at) filter (where entity = 'orders'))) as known
       from ingest_batches where status = 'completed'`,
  );
  return rows[0]?.known ?? null;
}
