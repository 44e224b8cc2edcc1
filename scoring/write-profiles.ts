import type { Knex } from 'knex';
import type { ModelVersions, ProfileColumns } from './predict-profiles';

export interface ScoreSummary {
  runId: number;
  asOf: string;
  customers: number;
  riskBands: Record<string, number>;
  confidence: Record<string, number>;
  segments: Record<string, number>;
  /** Sum of expected net revenue over the CLV horizon, summed in numeric by Postgres. */
  expectedNetRevenue: string;
  modelVersions: ModelVersions;
  elapsedMs: number;
}

export interface WriteProfilesOptions {
  /** Rows written per statement. */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** When scoring started (Date.now()), for the run's elapsed time. */
  startedAt: number;
}

const money = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : null);
const finite = (v: number) => (Number.isFinite(v) ? v : null);

/**
 * Writes profiles as the scoring run of their as-of: the scoring_runs row (replacing the run of the same as_of, so
 * re-running is idempotent), one customer_risk_scores row per customer, and the run's summary.
 */
export async function writeProfiles(db: Knex, p: ProfileColumns, options: WriteProfilesOptions): Promise<ScoreSummary> {
  const asOf = p.asOf.toISOString();
  const n = p.customerIds.length;
  const run = await db.raw<{ rows: { run_id: string }[] }>(
    `insert into scoring_runs (as_of, model_versions) values (?, ?)
     on conflict (as_of) do update set model_versions = excluded.model_versions, started_at = now(), finished_at = null
     returning run_id`,
    [asOf, JSON.stringify(p.modelVersions)],
  );
  const runId = Number(run.rows[0]!.run_id);
  const chunkSize = options.chunkSize ?? 5000;
  const { clv, rfm, embedding, embeddingDims: dims } = p;
  const { probabilistic } = clv;

  await db.transaction(async (trx) => {
    await trx('customer_risk_scores').where({ as_of: asOf }).delete();
    for (let start = 0; start < n; start += chunkSize) {
      const rows = Array.from({ length: Math.min(chunkSize, n - start) }, (_, k) => start + k);
      await trx.raw(
        `insert into customer_risk_scores (run_id, as_of, customer_id, churn_probability, churn_horizon_days, risk_band, churn_drivers,
           clv_expected_net_revenue, clv_lower, clv_upper, clv_horizon_months, p_alive, expected_orders, expected_spend_per_order, expected_next_order_at,
           segment, rfm, price_sensitive, cluster_id, cluster_description, embedding, confidence, coverage, model_versions)
         select ?::bigint, ?::timestamptz, t.customer_id, t.churn_probability, ?::int, t.risk_band, t.churn_drivers,
           t.clv, t.clv_lower, t.clv_upper, ?::int, t.p_alive, t.expected_orders, t.spend, t.next_order_at,
           t.segment, t.rfm, t.price_sensitive, t.cluster_id, t.cluster_description, t.embedding::real[], t.confidence, t.coverage, ?::jsonb
         from unnest(?::text[], ?::real[], ?::text[], ?::jsonb[], ?::numeric[], ?::numeric[], ?::numeric[], ?::real[], ?::real[], ?::numeric[], ?::timestamptz[],
                     ?::text[], ?::jsonb[], ?::boolean[], ?::int[], ?::text[], ?::text[], ?::text[], ?::jsonb[])
           as t(customer_id, churn_probability, risk_band, churn_drivers, clv, clv_lower, clv_upper, p_alive, expected_orders, spend, next_order_at,
                segment, rfm, price_sensitive, cluster_id, cluster_description, embedding, confidence, coverage)`,
        [
          runId,
          asOf,
          p.churnHorizonDays,
          p.clvHorizonMonths,
          JSON.stringify(p.modelVersions),
          rows.map((i) => p.customerIds[i]!),
          rows.map((i) => p.churnProbability[i]!),
          rows.map((i) => p.riskBand[i]!),
          rows.map((i) => JSON.stringify(p.churnDrivers[i])),
          rows.map((i) => money(clv.expectedNetRevenue[i]!)),
          rows.map((i) => money(clv.interval.lower[i]!)),
          rows.map((i) => money(clv.interval.upper[i]!)),
          // A flagged probabilistic fit gives no P(alive), orders, spend or next order.
          rows.map((i) => (probabilistic ? finite(probabilistic.pAlive[i]!) : null)),
          rows.map((i) => (probabilistic ? finite(probabilistic.expectedTransactions[i]!) : null)),
          rows.map((i) => (probabilistic ? money(probabilistic.expectedSpendPerOrder[i]!) : null)),
          rows.map((i) => probabilistic?.expectedNextOrderAt[i]?.toISOString() ?? null),
          rows.map((i) => rfm[i]!.segment),
          rows.map((i) => JSON.stringify({ r: rfm[i]!.r, f: rfm[i]!.f, m: rfm[i]!.m })),
          rows.map((i) => rfm[i]!.priceSensitive),
          rows.map((i) => p.clusterId[i]!),
          rows.map((i) => p.clusterDescription[i]!),
          rows.map((i) => `{${Array.from(embedding.subarray(i * dims, (i + 1) * dims)).join(',')}}`),
          rows.map((i) => p.coverage[i]!.confidence),
          rows.map((i) => JSON.stringify(p.coverage[i])),
        ] as unknown as Knex.RawBinding[],
      );
      options.onProgress?.(Math.min(start + chunkSize, n), n);
    }
  });

  const stats = await db.raw<{ rows: { kind: string; key: string; n: number }[] }>(
    `select 'band' as kind, risk_band as key, count(*)::int as n from customer_risk_scores where run_id = :runId group by risk_band
     union all select 'confidence', confidence, count(*)::int from customer_risk_scores where run_id = :runId group by confidence
     union all select 'segment', segment, count(*)::int from customer_risk_scores where run_id = :runId group by segment`,
    { runId },
  );
  const total = await db('customer_risk_scores').where({ run_id: runId }).sum({ s: 'clv_expected_net_revenue' }).first();
  const pick = (kind: string) => Object.fromEntries(stats.rows.filter((r) => r.kind === kind).map((r) => [r.key, r.n]));
  const result: ScoreSummary = {
    runId,
    asOf,
    customers: n,
    riskBands: pick('band'),
    confidence: pick('confidence'),
    segments: pick('segment'),
    expectedNetRevenue: String(total?.s ?? '0'),
    modelVersions: p.modelVersions,
    elapsedMs: Date.now() - options.startedAt,
  };
  await db('scoring_runs')
    .where({ run_id: runId })
    .update({ customers_scored: n, summary: JSON.stringify(result), finished_at: db.fn.now() });
  return result;
}
