import type { Knex } from 'knex';
import { DAYS_PER_MONTH, DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_CLV_HORIZON_MONTHS, MS_PER_DAY } from '../lib/horizons';
import { keep } from './keep-model';
import { trainChurn } from './train-churn';
import { backtestClv, chooseClvModel, type ClvModelChoice } from './clv-backtest';
import { featuresAsOf } from '../features/features-as-of';
import { GbmClv } from '../models/clv/gbm-clv';
import { ProbabilisticClv } from '../models/clv/probabilistic-clv';
import { clvSummary } from '../features/clv-summary';
import { BehaviourEmbedding } from '../models/embeddings/behaviour';
import { FEATURE_VERSION } from '../features/catalog';
import { computeFeatureSnapshot, loadFeatureMatrix, type FeatureMatrix } from '../features/snapshots';
import { BehaviourClusters } from '../models/segments/kmeans';
import { RfmModel } from '../models/segments/rfm';
import { getChampion, registerModel, type RegisteredModel } from '../registry/model-registry';
import { ClvServingBundle, type ClvServingBundleJson } from '../registry/clv-serving-bundle';
import { SegmentsBundle } from '../registry/segments-bundle';

export interface TrainModelsInput {
  asOf: Date;
  churnHorizonDays?: number;
  clvHorizonMonths?: number;
  createdBy: string;
  /** Promote each new model to champion at once (the demo); otherwise a model becomes champion only when none exists. */
  promote?: boolean;
}

export interface TrainModelsResult {
  models: Pick<RegisteredModel, 'modelId' | 'kind' | 'version' | 'status' | 'metrics'>[];
  clvChoice: ClvModelChoice;
}

/** k-means is fitted on at most this many customers (seeded sample); every customer is still assigned a cluster. */
const CLUSTER_SAMPLE = 100_000;

function sampleRows(matrix: FeatureMatrix, max: number, seed: number): FeatureMatrix {
  if (matrix.nrow <= max) return matrix;
  // Deterministic stride sample from a seeded offset: reproducible and spread over the id order.
  const stride = matrix.nrow / max;
  const offset = (seed % 997) / 997;
  const rows = Array.from({ length: max }, (_, i) => Math.min(matrix.nrow - 1, Math.floor((i + offset) * stride)));
  const X = new Float32Array(max * matrix.ncol);
  rows.forEach((r, i) => X.set(matrix.X.subarray(r * matrix.ncol, (r + 1) * matrix.ncol), i * matrix.ncol));
  return { ...matrix, X, nrow: max, customerIds: rows.map((r) => matrix.customerIds[r]!) };
}

/**
 * Trains every model Foresight serves, as of `asOf`, and records them in the registry: churn (XGBoost + calibration),
 * CLV (BG/NBD + Gamma-Gamma, and the gradient-boosted model when a backtest says it serves better), and segments
 * (RFM, behavioural clusters with ids kept stable against the current champion, the behaviour embedding).
 */
export async function trainModels(db: Knex, input: TrainModelsInput): Promise<TrainModelsResult> {
  const { asOf, createdBy } = input;
  const churnHorizonDays = input.churnHorizonDays ?? DEFAULT_CHURN_HORIZON_DAYS;
  const clvHorizonMonths = input.clvHorizonMonths ?? DEFAULT_CLV_HORIZON_MONTHS;
  const clvHorizonDays = Math.round(clvHorizonMonths * DAYS_PER_MONTH);
  const registered: RegisteredModel[] = [];

  // Churn: the candidate that wins a rolling-origin bake-off on this shop's own history serves.
  registered.push(await trainChurn(db, asOf, churnHorizonDays, createdBy, input.promote ?? false));

  // CLV: which model serves is decided by a backtest one horizon back, on outcomes already observed.
  let clvChoice: ClvModelChoice;
  let backtestMetrics: unknown = null;
  try {
    const backtest = await backtestClv(db, { asOf: new Date(asOf.getTime() - clvHorizonDays * MS_PER_DAY), horizonDays: clvHorizonDays });
    clvChoice = chooseClvModel(backtest);
    backtestMetrics = backtest.metrics;
  } catch (err) {
    clvChoice = {
      model: 'probabilistic',
      reason: `no backtest possible (${(err as Error).message}); the probabilistic model needs no past window`,
    };
  }
  const summary = await clvSummary(db, { asOf });
  const probabilistic = new ProbabilisticClv({ horizonMonths: clvHorizonMonths }).fit(summary);
  let gbm: GbmClv | null = null;
  if (clvChoice.model === 'gbm') {
    const cutoff = new Date(asOf.getTime() - clvHorizonDays * MS_PER_DAY);
    const past = await clvSummary(db, { asOf: cutoff, holdoutDays: clvHorizonDays });
    gbm = new GbmClv({ horizonDays: clvHorizonDays }).fit(await featuresAsOf(db, cutoff, past.customerIds), past.holdout!.netRevenue);
  }
  const clvBundle = new ClvServingBundle(clvChoice.model, probabilistic, gbm);
  let clvArtifact: ClvServingBundleJson;
  try {
    clvArtifact = clvBundle.toJSON();
  } finally {
    clvBundle.dispose();
  }
  const clv = await registerModel(db, {
    kind: 'clv',
    parameters: { horizonMonths: clvHorizonMonths, serving: clvChoice.model },
    featureVersion: FEATURE_VERSION,
    trainingTo: asOf,
    metrics: { choice: clvChoice, backtest: backtestMetrics, fit: probabilistic.fitState },
    artifact: clvArtifact,
    createdBy,
  });
  registered.push(await keep(db, clv, input.promote ?? false, createdBy));

  // Segments and embedding on the scoring snapshot itself.
  await computeFeatureSnapshot(db, asOf);
  const matrix = await loadFeatureMatrix(db, asOf, FEATURE_VERSION);
  const previous = await getChampion(db, 'segments');
  const previousClusters = previous ? SegmentsBundle.fromJSON(previous.artifact).clusters : undefined;
  const rfm = new RfmModel().fit(matrix);
  const clusters = new BehaviourClusters().fit(sampleRows(matrix, CLUSTER_SAMPLE, 42), { previous: previousClusters });
  const embedding = new BehaviourEmbedding().fit(matrix);
  const segments = await registerModel(db, {
    kind: 'segments',
    parameters: { clusterSample: CLUSTER_SAMPLE },
    featureVersion: FEATURE_VERSION,
    trainingTo: asOf,
    metrics: { customers: matrix.nrow, clusters: clusters.clusters.map((c) => ({ id: c.id, size: c.size, description: c.description })) },
    artifact: new SegmentsBundle(rfm, clusters, embedding).toJSON(),
    createdBy,
  });
  registered.push(await keep(db, segments, input.promote ?? false, createdBy));

  return {
    models: registered.map(({ modelId, kind, version, status, metrics }) => ({ modelId, kind, version, status, metrics })),
    clvChoice,
  };
}
