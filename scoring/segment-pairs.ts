import type { Knex } from 'knex';
import type { SegmentPair } from '../models/segments/migration';

/**
 * Where each customer's segment went from one scoring run to another, counted in the database (a million customers
 * per run never cross into Node). A customer without a segment in a run counts as absent from it.
 */
export async function segmentPairsOfRuns(db: Knex, beforeRunId: number, afterRunId: number): Promise<SegmentPair[]> {
  const { rows } = await db.raw<{ rows: SegmentPair[] }>(
    `select a.segment as before, b.segment as after, count(*)::int as customers
       from (select customer_id, segment from customer_risk_scores where run_id = :before and segment is not null) a
       full join (select customer_id, segment from customer_risk_scores where run_id = :after and segment is not null) b
         on b.customer_id = a.customer_id
      group by 1, 2`,
    { before: beforeRunId, after: afterRunId },
  );
  return rows;
}
