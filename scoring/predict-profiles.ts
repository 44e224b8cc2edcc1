import { DAYS_PER_MONTH, DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_CLV_HORIZON_MONTHS, MS_PER_DAY } from '../lib/horizons';
import { NotFoundError } from '../lib/errors';
import { ServedChurnModel } from '../models/churn/candidates';
import type { ChurnDriver, RiskBand } from '../models/churn/model';
import type { ClvConfidence, ClvConfidenceReason } from '../models/clv/probabilistic-clv';
import type { ClvSummary } from '../features/clv-summary';
import { assessCoverage, type Coverage } from '../models/confidence';
import { FEATURE_VERSION } from '../features/catalog';
import type { FeatureMatrix } from '../features/snapshots';
import type { RfmScore } from '../models/segments/rfm';
import { ClvServingBundle, type ClvBundlePrediction, type ClvServingCoverage } from '../registry/clv-serving-bundle';
import type { RegisteredModel } from '../registry/model-registry';
import { SegmentsBundle } from '../registry/segments-bundle';
import { timed, type StageTimes } from './stage-times';

/** The registry entries that score a profile: the champions, or the shadows beside them. */
export interface ProfileModels {
  churn: RegisteredModel;
  clv: RegisteredModel;
  segments: RegisteredModel;
}

/** Per kind; churn also names the candidate of the shop's bake-off that serves the probability. */
export type ModelVersions = Record<string, { modelId: number; version: number; serving?: string }>;

/**
 * The models of a profile, deserialised once (native boosters for churn and, when it serves, the CLV GBM) and
 * reusable for any number of predictions: a scoring worker keeps them per model id (scoring/model-cache.ts).
 * dispose() frees the boosters.
 */
export interface LoadedProfileModels {
  churn: ServedChurnModel;
  clv: ClvServingBundle;
  segments: SegmentsBundle;
  modelVersions: ModelVersions;
  churnHorizonDays: number;
  clvHorizonMonths: number;
  dispose(): void;
}

export function loadProfileModels(models: ProfileModels): LoadedProfileModels {
  const clvHorizonMonths = (models.clv.parameters.horizonMonths as number | undefined) ?? DEFAULT_CLV_HORIZON_MONTHS;
  const churn = ServedChurnModel.fromJSON(models.churn.artifact);
  let clv: ClvServingBundle;
  try {
    clv = ClvServingBundle.fromJSON(models.clv.artifact, Math.round(clvHorizonMonths * DAYS_PER_MONTH));
  } catch (err) {
    churn.dispose();
    throw err;
  }
  return {
    churn,
    clv,
    segments: SegmentsBundle.fromJSON(models.segments.artifact),
    modelVersions: {
      churn: { modelId: models.churn.modelId, version: models.churn.version, serving: churn.serving },
      clv: { modelId: models.clv.modelId, version: models.clv.version },
      segments: { modelId: models.segments.modelId, version: models.segments.version },
    },
    churnHorizonDays: (models.churn.parameters.horizonDays as number | undefined) ?? DEFAULT_CHURN_HORIZON_DAYS,
    clvHorizonMonths,
    dispose() {
      churn.dispose();
      clv.dispose();
    },
  };
}

export interface PredictProfilesInput {
  models: LoadedProfileModels;
  matrix: FeatureMatrix;
  /** The CLV summary as of the same time, in any customer order. */
  clvSummary: ClvSummary;
  asOf: Date;
  /** The newest order or session at or before asOf in the whole data set; null when there is none. */
  latestEventAt: Date | null;
  /** Where to add the time of each stage, if anywhere. */
  times?: StageTimes;
}

/**
 * Coverage of a profile: the customer's data, and the CLV's: which model serves it (and which it replaced), the
 * probabilistic fit's flags, the interval's level and method, and the probabilistic model's own confidence when it is
 * not high.
 */
export type ProfileCoverage = Coverage & {
  clv: ClvServingCoverage & { confidence?: ClvConfidence; reason?: ClvConfidenceReason | null };
};

/** Profiles as columns aligned with customerIds (the feature matrix's order): one customer_risk_scores row each. */
export interface ProfileColumns {
  asOf: Date;
  customerIds: readonly string[];
  modelVersions: ModelVersions;
  churnHorizonDays: number;
  clvHorizonMonths: number;
  churnProbability: Float64Array;
  riskBand: RiskBand[];
  churnDrivers: ChurnDriver[][];
  /** Expected net revenue and its interval from the model that serves CLV; P(alive) etc. from the probabilistic model (null when flagged). */
  clv: ClvBundlePrediction;
  rfm: RfmScore[];
  clusterId: Int32Array;
  clusterDescription: (string | null)[];
  /** Row-major, embeddingDims values per customer. */
  embedding: Float32Array;
  embeddingDims: number;
  coverage: ProfileCoverage[];
}

function column(matrix: FeatureMatrix, name: string): (row: number) => number {
  const j = matrix.featureNames.indexOf(name);
  if (j < 0) throw new NotFoundError(`Feature ${name} is not in feature version ${FEATURE_VERSION}`);
  return (row) => matrix.X[row * matrix.ncol + j]!;
}

/**
 * Every model's prediction for every customer of the feature matrix, with the coverage that says how far to trust
 * it. No database: the caller loads the models and data, and decides what to do with the profiles; the models are
 * not disposed here (the caller may reuse them).
 */
export function predictProfiles(input: PredictProfilesInput): ProfileColumns {
  const { models, matrix, asOf } = input;
  const n = matrix.nrow;

  const { times } = input;
  const aligned = alignSummary(input.clvSummary, matrix.customerIds);
  const { churnProbability, riskBand } = timed(times, 'churn', () => {
    const probability = models.churn.predictProba(matrix, aligned);
    return { churnProbability: probability, riskBand: Array.from(probability, (p): RiskBand => models.churn.explainer.riskBand(p)) };
  });
  // The boosted model's drivers explain the risk whichever candidate serves its probability.
  const churnDrivers: ChurnDriver[][] = timed(times, 'drivers', () => models.churn.explainer.explain(matrix.X, n, { top: 3 }));

  const clv: ClvBundlePrediction = timed(times, 'clv', () => models.clv.predict(aligned, matrix));

  const segments = models.segments;
  const { rfm, clusterId, embedding } = timed(times, 'segments', () => ({
    rfm: segments.rfm.predict(matrix),
    clusterId: segments.clusters.predict(matrix),
    embedding: segments.embedding.transform(matrix),
  }));
  const descriptions = new Map(segments.clusters.clusters.map((c) => [c.id, c.description]));

  const dataAgeDays = input.latestEventAt ? (asOf.getTime() - input.latestEventAt.getTime()) / MS_PER_DAY : Infinity;
  const orders = column(matrix, 'orders_lifetime');
  const tenure = column(matrix, 'tenure_days');
  const lastSession = column(matrix, 'days_since_last_session');
  const coverage = timed(times, 'documents', () =>
    Array.from({ length: n }, (_, i): ProfileCoverage => {
      const c = assessCoverage({ ordersLifetime: orders(i), tenureDays: tenure(i), daysSinceLastSession: lastSession(i), dataAgeDays });
      const probabilistic = clv.probabilistic;
      const confidence =
        probabilistic === null || probabilistic.confidence[i] === 'high'
          ? {}
          : { confidence: probabilistic.confidence[i]!, reason: probabilistic.confidenceReason[i]! };
      return { ...c, clv: { ...clv.coverage, ...confidence } };
    }),
  );

  return {
    asOf,
    customerIds: matrix.customerIds,
    modelVersions: models.modelVersions,
    churnHorizonDays: models.churnHorizonDays,
    clvHorizonMonths: models.clvHorizonMonths,
    churnProbability,
    riskBand,
    churnDrivers,
    clv,
    rfm,
    clusterId,
    clusterDescription: Array.from(clusterId, (id) => descriptions.get(id) ?? null),
    embedding,
    embeddingDims: embedding.length / Math.max(n, 1),
    coverage,
  };
}

/** Each summary's customer index, built once per summary (a run's summary serves all its partitions). */
const summaryIndexes = new WeakMap<ClvSummary, Map<string, number>>();

/** The CLV summary re-ordered to the feature matrix's customers; customers it lacks get a zero history. */
export function alignSummary(summary: ClvSummary, customerIds: readonly string[]): ClvSummary {
  let index = summaryIndexes.get(summary);
  if (!index) {
    index = new Map(summary.customerIds.map((id, i) => [id, i]));
    summaryIndexes.set(summary, index);
  }
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
    recentTransactions: pick(summary.recentTransactions, (n) => new Int32Array(n), 0),
    expectedReturnShare: pick(summary.expectedReturnShare, f64, summary.populationReturnShare),
  };
}
