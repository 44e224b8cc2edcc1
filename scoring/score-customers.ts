import type { Knex } from 'knex';
import { NotFoundError } from '../lib/errors';
import { DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_CLV_HORIZON_MONTHS, MS_PER_DAY } from '../lib/horizons';
import { ChurnModel, type ChurnDriver } from '../models/churn/model';
import { GbmClv } from '../models/clv/gbm-clv';
import { ProbabilisticClv } from '../models/clv/probabilistic-clv';
import { clvSummary, type ClvSummary } from '../features/clv-summary';
import { assessCoverage } from '../models/confidence';
import { BehaviourEmbedding } from '../models/embeddings/behaviour';
import { FEATURE_VERSION } from '../features/catalog';
import { computeFeatureSnapshot, loadFeatureMatrix, type FeatureMatrix } from '../features/snapshots';
import { BehaviourClusters } from '../models/segments/kmeans';
import { RfmModel } from '../models/segments/rfm';
import { getChampion, type RegisteredModel } from '../registry/model-registry';

export interface ScoreCustomersInput {
  asOf: Date;
  /** Rows written per statement. */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ScoreSummary {
  runId: number;
  asOf: string;
  customers: number;
  riskBands: Record<string, number>;
  confidence: Record<string, number>;
  segments: Record<string, number>;
  /** Sum of expected net revenue over the CLV horizon, summed in numeric by Postgres. */
  expectedNetRevenue: string;
  modelVersions: Record<string, { modelId: number; version: number }>;
  elapsedMs: number;
}

async function champion(db: Knex, kind: string): Promise<RegisteredModel> {
  const model = await getChampion(db, kind);
  if (!model) throw new NotFoundError(`No champion ${kind} model: train one first (foresight train)`);
  return model;
}

function column(matrix: FeatureMatrix, name: string): (row: number) => number {
  const j = matrix.featureNames.indexOf(name);
  if (j < 0) throw new NotFoundError(`Feature ${name} is not in feature version ${FEATURE_VERSION}`);
  return (row) => matrix.X[row * matrix.ncol + j]!;
}

const money = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : null);
const finite = (v: number) => (Number.isFinite(v) ? v : null);

/**
 * Scores every customer who has purchased by `asOf` with the champion models and writes one row per customer to
 * customer_risk_scores (replacing the run of the same as_of, so re-running is idempotent).
 */
export async function scoreCustomers(db: Knex, input: ScoreCustomersInput): Promise<ScoreSummary> {
  const started = Date.now();
  const { asOf } = input;
  const [churnEntry, clvEntry, segmentsEntry] = await Promise.all([champion(db, 'churn'), champion(db, 'clv'), champion(db, 'segments')]);
  const modelVersions = Object.fromEntries(
    [churnEntry, clvEntry, segmentsEntry].map((m) => [m.kind, { modelId: m.modelId, version: m.version }]),
  );

  await computeFeatureSnapshot(db, asOf);
  const matrix = await loadFeatureMatrix(db, asOf, FEATURE_VERSION);
  const n = matrix.nrow;

  const churnModel = ChurnModel.fromJSON(churnEntry.artifact);
  let churnProbability: Float64Array;
  let drivers: ChurnDriver[][];
  let riskBands: string[];
  try {
    churnProbability = churnModel.predictProba(matrix.X, n);
    riskBands = Array.from(churnProbability, (p) => churnModel.riskBand(p));
    drivers = churnModel.explain(matrix.X, n, { top: 3 });
  } finally {
    churnModel.dispose();
  }

  const clvArtifact = clvEntry.artifact as { serving: 'probabilistic' | 'gbm'; probabilistic: unknown; gbm: unknown };
  const summary = await clvSummary(db, { asOf });
  const aligned = alignSummary(summary, matrix.customerIds);
  const clv = ProbabilisticClv.fromJSON(clvArtifact.probabilistic).predict(aligned);
  let netRevenue = clv.expectedNetRevenue;
  if (clvArtifact.serving === 'gbm' && clvArtifact.gbm) {
    const gbm = GbmClv.fromJSON(clvArtifact.gbm);
    try {
      netRevenue = gbm.predict(matrix);
    } finally {
      gbm.dispose();
    }
  }

  const seg = segmentsEntry.artifact as { rfm: unknown; clusters: unknown; embedding: unknown };
  const rfm = RfmModel.fromJSON(seg.rfm).predict(matrix);
  const clusterModel = BehaviourClusters.fromJSON(seg.clusters);
  const clusterIds = clusterModel.predict(matrix);
  const clusterDescriptions = new Map(clusterModel.clusters.map((c) => [c.id, c.description]));
  const vectors = BehaviourEmbedding.fromJSON(seg.embedding).transform(matrix);
  const dims = vectors.length / Math.max(n, 1);

  const latest = await db.raw<{ rows: { latest: Date | null }[] }>(
    `select greatest((select max(ordered_at) from orders where ordered_at <= :asOf),
                     (select max(started_at) from sessions where started_at <= :asOf)) as latest`,
    { asOf: asOf.toISOString() },
  );
  const latestEvent = latest.rows[0]?.latest;
  const dataAgeDays = latestEvent ? (asOf.getTime() - latestEvent.getTime()) / MS_PER_DAY : Infinity;
  const orders = column(matrix, 'orders_lifetime');
  const tenure = column(matrix, 'tenure_days');
  const lastSession = column(matrix, 'days_since_last_session');

  const run = await db.raw<{ rows: { run_id: string }[] }>(
    `insert into scoring_runs (as_of, model_versions) values (?, ?)
     on conflict (as_of) do update set model_versions = excluded.model_versions, started_at = now(), finished_at = null
     returning run_id`,
    [asOf.toISOString(), JSON.stringify(modelVersions)],
  );
  const runId = Number(run.rows[0]!.run_id);
  const chunkSize = input.chunkSize ?? 5000;
  const churnHorizonDays = (churnEntry.parameters.horizonDays as number | undefined) ?? DEFAULT_CHURN_HORIZON_DAYS;
  const clvHorizonMonths = (clvEntry.parameters.horizonMonths as number | undefined) ?? DEFAULT_CLV_HORIZON_MONTHS;

  await db.transaction(async (trx) => {
    await trx('customer_risk_scores').where({ as_of: asOf.toISOString() }).delete();
    for (let start = 0; start < n; start += chunkSize) {
      const rows = Array.from({ length: Math.min(chunkSize, n - start) }, (_, k) => start + k);
      const coverage = rows.map((i) => {
        const c = assessCoverage({ ordersLifetime: orders(i), tenureDays: tenure(i), daysSinceLastSession: lastSession(i), dataAgeDays });
        return { ...c, clv: clv.confidence[i] === 'high' ? null : { confidence: clv.confidence[i], reason: clv.confidenceReason[i] } };
      });
      await trx.raw(
        `insert into customer_risk_scores (run_id, as_of, customer_id, churn_probability, churn_horizon_days, risk_band, churn_drivers,
           clv_expected_net_revenue, clv_horizon_months, p_alive, expected_orders, expected_spend_per_order, expected_next_order_at,
           segment, rfm, price_sensitive, cluster_id, cluster_description, embedding, confidence, coverage, model_versions)
         select ?::bigint, ?::timestamptz, t.customer_id, t.churn_probability, ?::int, t.risk_band, t.churn_drivers,
           t.clv, ?::int, t.p_alive, t.expected_orders, t.spend, t.next_order_at,
           t.segment, t.rfm, t.price_sensitive, t.cluster_id, t.cluster_description, t.embedding::real[], t.confidence, t.coverage, ?::jsonb
         from unnest(?::text[], ?::real[], ?::text[], ?::jsonb[], ?::numeric[], ?::real[], ?::real[], ?::numeric[], ?::timestamptz[],
                     ?::text[], ?::jsonb[], ?::boolean[], ?::int[], ?::text[], ?::text[], ?::text[], ?::jsonb[])
           as t(customer_id, churn_probability, risk_band, churn_drivers, clv, p_alive, expected_orders, spend, next_order_at,
                segment, rfm, price_sensitive, cluster_id, cluster_description, embedding, confidence, coverage)`,
        [
          runId,
          asOf.toISOString(),
          churnHorizonDays,
          clvHorizonMonths,
          JSON.stringify(modelVersions),
          rows.map((i) => matrix.customerIds[i]!),
          rows.map((i) => churnProbability[i]!),
          rows.map((i) => riskBands[i]!),
          rows.map((i) => JSON.stringify(drivers[i])),
          rows.map((i) => money(netRevenue[i]!)),
          rows.map((i) => finite(clv.pAlive[i]!)),
          rows.map((i) => finite(clv.expectedTransactions[i]!)),
          rows.map((i) => money(clv.expectedSpendPerOrder[i]!)),
          rows.map((i) => clv.expectedNextOrderAt[i]?.toISOString() ?? null),
          rows.map((i) => rfm[i]!.segment),
          rows.map((i) => JSON.stringify({ r: rfm[i]!.r, f: rfm[i]!.f, m: rfm[i]!.m })),
          rows.map((i) => rfm[i]!.priceSensitive),
          rows.map((i) => clusterIds[i]!),
          rows.map((i) => clusterDescriptions.get(clusterIds[i]!) ?? null),
          rows.map((i) => `{${Array.from(vectors.subarray(i * dims, (i + 1) * dims)).join(',')}}`),
          coverage.map((c) => c.confidence),
          coverage.map((c) => JSON.stringify(c)),
        ] as unknown as Knex.RawBinding[],
      );
      input.onProgress?.(Math.min(start + chunkSize, n), n);
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
    asOf: asOf.toISOString(),
    customers: n,
    riskBands: pick('band'),
    confidence: pick('confidence'),
    segments: pick('segment'),
    expectedNetRevenue: String(total?.s ?? '0'),
    modelVersions,
    elapsedMs: Date.now() - started,
  };
  await db('scoring_runs')
    .where({ run_id: runId })
    .update({ customers_scored: n, summary: JSON.stringify(result), finished_at: db.fn.now() });
  return result;
}

/** The CLV summary re-ordered to the feature matrix's customers; customers it lacks get a zero history. */
function alignSummary(summary: ClvSummary, customerIds: readonly string[]): ClvSummary {
  const index = new Map(summary.customerIds.map((id, i) => [id, i]));
  const pick = <T extends Float64Array | Int32Array>(source: T, make: (n: number) => T, fill: number): T => {
    const out = make(customerIds.length);
    customerIds.forEach((id, k) => {
      const i = index.get(id);
      out[k] = i === undefined ? fill : source[i]!;
    });
    return out;
  };
  const f64 = (n: number) => new Float64Array(n);
  return {
    ...summary,
    customerIds: [...customerIds],
    frequency: pick(summary.frequency, (n) => new Int32Array(n), 0),
    recency: pick(summary.recency, f64, 0),
    age: pick(summary.age, f64, 0),
    meanRepeatValue: pick(summary.meanRepeatValue, f64, 0),
    purchasedAmount: pick(summary.purchasedAmount, f64, 0),
    returnedAmount: pick(summary.returnedAmount, f64, 0),
    recentNetSpend: pick(summary.recentNetSpend, f64, 0),
    expectedReturnShare: pick(summary.expectedReturnShare, f64, summary.populationReturnShare),
  };
}
