import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ConflictError } from '../lib/errors';
import type { ProfileColumns } from './predict-profiles';
import type { ScoringPartition } from './scoring-runs';

const COLUMNS = [
  'run_id', 'as_of', 'customer_id', 'churn_probability', 'churn_horizon_days', 'risk_band', 'churn_drivers',
  'clv_expected_net_revenue', 'clv_lower', 'clv_upper', 'clv_horizon_months', 'p_alive', 'expected_orders', 'expected_spend_per_order',
  'expected_next_order_at', 'segment', 'rfm', 'price_sensitive', 'cluster_id', 'cluster_description', 'embedding',
  'confidence', 'coverage', 'model_versions',
]; // prettier-ignore

const NULL = '\\N';
const SPECIAL = /[\\\t\n\r]/;
/** COPY's text format: backslash, tab, newline and carriage return escaped; \N is NULL. */
const text = (v: string | null | undefined) =>
  v === null || v === undefined
    ? NULL
    : SPECIAL.test(v)
      ? v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
      : v;
const money = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : NULL);
const finite = (v: number) => (Number.isFinite(v) ? String(v) : NULL);

/** Rows per string handed to the COPY stream. */
const ROWS_PER_CHUNK = 1000;

/** The profiles as COPY lines, ROWS_PER_CHUNK rows per string. */
export function* profileLines(runId: number, p: ProfileColumns): Generator<string> {
  const asOf = p.asOf.toISOString();
  const versions = text(JSON.stringify(p.modelVersions));
  const { clv, rfm, embedding, embeddingDims: dims } = p;
  // A flagged probabilistic fit gives no P(alive), orders, spend or next order.
  const { probabilistic } = clv;
  let chunk = '';
  for (let i = 0; i < p.customerIds.length; i++) {
    let vector = '{';
    for (let k = i * dims; k < (i + 1) * dims; k++) vector += k === i * dims ? String(embedding[k]) : `,${embedding[k]}`;
    chunk +=
      [
        String(runId),
        asOf,
        text(p.customerIds[i]),
        finite(p.churnProbability[i]!),
        String(p.churnHorizonDays),
        text(p.riskBand[i]),
        text(JSON.stringify(p.churnDrivers[i])),
        money(clv.expectedNetRevenue[i]!),
        money(clv.interval.lower[i]!),
        money(clv.interval.upper[i]!),
        String(p.clvHorizonMonths),
        probabilistic ? finite(probabilistic.pAlive[i]!) : NULL,
        probabilistic ? finite(probabilistic.expectedTransactions[i]!) : NULL,
        probabilistic ? money(probabilistic.expectedSpendPerOrder[i]!) : NULL,
        probabilistic?.expectedNextOrderAt[i]?.toISOString() ?? NULL,
        text(rfm[i]!.segment),
        text(JSON.stringify({ r: rfm[i]!.r, f: rfm[i]!.f, m: rfm[i]!.m })),
        rfm[i]!.priceSensitive ? 't' : 'f',
        String(p.clusterId[i]),
        text(p.clusterDescription[i]),
        `${vector}}`,
        text(p.coverage[i]!.confidence),
        text(JSON.stringify(p.coverage[i])),
        versions,
      ].join('\t') + '\n';
    if ((i + 1) % ROWS_PER_CHUNK === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

export interface WrittenPartition {
  partition: number;
  customers: number;
}

/**
 * Writes one partition of a running run in one transaction: deletes whatever an earlier attempt of the partition left
 * (its customer range of the run), COPYs the rows, and records the partition as written. A retried or duplicated
 * attempt therefore replaces, never adds; the run row is share-locked and must still be `running`, so an attempt that
 * outlived its run (a zombie worker) cannot touch a published or failed run. `lines` (profileLines of the partition's
 * `customers` profiles) is read while Postgres writes what it has had so far, so the caller may compute the profiles
 * chunk by chunk as the COPY asks for them.
 */
export async function copyPartition(
  db: Knex,
  run: { runId: number; partition: ScoringPartition },
  rows: { customers: number; lines: Iterable<string> },
  by: { scoredBy: string; attempt: number },
): Promise<WrittenPartition> {
  const { runId, partition } = run;
  const conn = (await db.client.acquireConnection()) as PoolClient;
  try {
    await conn.query('begin');
    try {
      const status = await conn.query<{ status: string }>('select status from scoring_runs where run_id = $1 for share', [runId]);
      if (status.rows[0]?.status !== 'running')
        throw new ConflictError(
          `Scoring run ${runId} is ${status.rows[0]?.status ?? 'missing'}: partition ${partition.partition} not written`,
          {
            runId,
          },
        );
      await conn.query(
        `delete from customer_risk_scores where run_id = $1
           and ($2::text is null or customer_id > $2) and ($3::text is null or customer_id <= $3)`,
        [runId, partition.after, partition.upTo],
      );
      await pipeline(Readable.from(rows.lines), conn.query(copyFrom(`copy customer_risk_scores (${COLUMNS.join(', ')}) from stdin`)));
      await conn.query(
        `insert into scoring_run_partitions (run_id, partition, customers, scored_by, attempt) values ($1, $2, $3, $4, $5)
         on conflict (run_id, partition) do update set customers = excluded.customers, scored_by = excluded.scored_by,
           attempt = excluded.attempt, written_at = now()`,
        [runId, partition.partition, rows.customers, by.scoredBy, by.attempt],
      );
      await conn.query('commit');
    } catch (err) {
      await conn.query('rollback').catch(() => undefined);
      throw err;
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
  return { partition: partition.partition, customers: rows.customers };
}
