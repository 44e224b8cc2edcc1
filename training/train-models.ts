import type { Knex } from 'knex';
import { config } from '../lib/config';
import { ValidationError } from '../lib/errors';
import { DAYS_PER_MONTH, DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_CLV_HORIZON_MONTHS } from '../lib/horizons';
import { keep } from './keep-model';
import { StepTimings } from './step-timings';
import { trainChurn } from './train-churn';
import { trainClvModel, type ClvServingDecision } from './clv-training';
import { BehaviourEmbedding } from '../models/embeddings/behaviour';
import { FEATURE_VERSION } from '../features/catalog';
import { chooseTrainingSample, type TrainingSample } from '../features/training-sample';
import { openSampleCopies } from '../features/sample-copies';
import { log } from '../lib/log';
import { ensureFeatureSnapshot, loadFeatureMatrix, type FeatureMatrix } from '../features/snapshots';
import { BehaviourClusters } from '../models/segments/kmeans';
import { RfmModel } from '../models/segments/rfm';
import { findByTrainingRun, getChampion, registerModel, type RegisteredModel } from '../registry/model-registry';
import { SegmentsBundle } from '../registry/segments-bundle';

export interface TrainModelsInput {
  asOf: Date;
  churnHorizonDays?: number;
  clvHorizonMonths?: number;
  createdBy: string;
  /** Promote each new model to champion at once (the demo); otherwise a model becomes champion only when none exists. */
  promote?: boolean;
  /** The kinds to train (default all); the retrain workflow trains each in its own activity. */
  kinds?: readonly ModelKind[];
  /**
   * The training run (a retrain workflow's id): a kind this run already registered is returned as registered, not
   * trained again, so a retried activity gives back the same model.
   */
  trainingRun?: string;
  /** Records the wall time of each step (the training benchmark reads it). */
  timings?: StepTimings;
  /**
   * Above this many purchasers, churn and CLV train on a seeded sample of about this many customers
   * (features/training-sample.ts); default config().training.sampleCustomers.
   */
  trainingSampleCustomers?: number;
}

export const MODEL_KINDS = ['churn', 'clv', 'segments'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export interface TrainModelsResult {
  models: Pick<RegisteredModel, 'modelId' | 'kind' | 'version' | 'status' | 'metrics'>[];
  /** Null when this run trained no CLV model. */
  clvChoice: ClvServingDecision | null;
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
 * CLV (the bake-off's choice of historical average, BG/NBD + Gamma-Gamma, gradient-boosted model or blend), and segments
 * (RFM, behavioural clusters with ids kept stable against the current champion, the behaviour embedding).
 */
export async function trainModels(db: Knex, input: TrainModelsInput): Promise<TrainModelsResult> {
  const { asOf, createdBy } = input;
  const churnHorizonDays = input.churnHorizonDays ?? DEFAULT_CHURN_HORIZON_DAYS;
  const clvHorizonMonths = input.clvHorizonMonths ?? DEFAULT_CLV_HORIZON_MONTHS;
  const clvHorizonDays = Math.round(clvHorizonMonths * DAYS_PER_MONTH);
  const registered: RegisteredModel[] = [];
  const { trainingRun } = input;
  const steps = input.timings ?? new StepTimings();
  const kinds = new Set(input.kinds ?? MODEL_KINDS);
  /** True when the kind is to be trained now: asked for, and not already registered by this training run. */
  let clvChoice: ClvServingDecision | null = null;
  const toTrain = async (kind: ModelKind): Promise<boolean> => {
    if (!kinds.has(kind)) return false;
    const done = trainingRun === undefined ? undefined : await findByTrainingRun(db, kind, trainingRun);
    if (done) registered.push(done);
    if (done?.kind === 'clv') clvChoice = done.metrics.choice as ClvServingDecision;
    return done === undefined;
  };

  // A large shop's churn and CLV models learn from the same seeded sample of customers (recorded in their metrics),
  // read from copies of the sample's rows (features/sample-copies.ts) until training ends.
  let sample: Promise<TrainingSample | null> | undefined;
  let copies: { close: () => Promise<void> } | undefined;
  const trainingSample = () =>
    (sample ??= steps
      .time(
        'training sample',
        () => chooseTrainingSample(db, asOf, input.trainingSampleCustomers ?? config().training.sampleCustomers),
        (s) => (s ? `${s.customers} of ${s.purchasers} purchasers` : 'everyone'),
      )
      .then(async (chosen) => {
        // Without copies (a database that refuses temporary tables, say) the same statements read the full tables:
        // the same rows, only slower, so training goes on and says so.
        if (chosen)
          copies = await steps.time(
            'training sample: copies of its rows',
            () =>
              openSampleCopies(db, chosen).catch((err: unknown) => {
                log.warn({ err }, 'could not copy the training sample; its statements read the full tables');
                return undefined;
              }),
            (made) =>
              made
                ? Object.entries(made.rows)
                    .map(([table, n]) => `${table} ${n}`)
                    .join(', ')
                : 'not made: the full tables are read',
          );
        return chosen;
      }));
  try {
    return await trainKinds();
  } finally {
    await copies?.close();
  }

  async function trainKinds(): Promise<TrainModelsResult> {
    // Churn: the candidate that wins a rolling-origin bake-off on this shop's own history serves.
    if (await toTrain('churn'))
      registered.push(
        await trainChurn(db, asOf, churnHorizonDays, createdBy, input.promote ?? false, trainingRun, steps, await trainingSample()),
      );

    // CLV: which model serves is decided by the rolling-origin bake-off ending one horizon back, on outcomes already
    // observed; the models are then fitted as of asOf, and a probabilistic fit flagged now falls back to the best of the rest.
    if (await toTrain('clv')) {
      const clv = await trainClvModel(db, asOf, clvHorizonDays, clvHorizonMonths, createdBy, trainingRun, steps, await trainingSample());
      clvChoice = clv.choice;
      registered.push(await keep(db, clv.model, input.promote ?? false, createdBy));
    }

    // Segments and embedding on the scoring snapshot itself.
    if (await toTrain('segments')) {
      const { matrix } = await steps.time(
        'segments: feature snapshot',
        async () => {
          // The scoring snapshot itself; not computed again when the data has not changed since it was (the daily
          // pipeline's refresh usually made it).
          const snapshot = await ensureFeatureSnapshot(db, asOf);
          return { matrix: await loadFeatureMatrix(db, asOf, FEATURE_VERSION), reused: snapshot.reused === true };
        },
        ({ matrix, reused }) => `${matrix.nrow} customers${reused ? ', snapshot on record reused (no ingestion since)' : ''}`,
      );
      const previous = await getChampion(db, 'segments');
      // Cluster ids are matched to the champion's centroids so they stay stable; a champion stored in a format this build
      // cannot read (an older envelope) cannot be matched, and the new clusters start their own ids (recorded below).
      let previousClusters: BehaviourClusters | undefined;
      let clusterIdsMatchedTo: number | string | null = null;
      if (previous) {
        try {
          previousClusters = SegmentsBundle.fromJSON(previous.artifact).clusters;
          clusterIdsMatchedTo = previous.modelId;
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          clusterIdsMatchedTo = `not matched: champion ${previous.modelId} is unreadable (${err.message})`;
        }
      }
      const rfm = steps.timeSync('segments: RFM', () => new RfmModel().fit(matrix));
      const clusters = steps.timeSync('segments: k-means', () =>
        new BehaviourClusters().fit(sampleRows(matrix, CLUSTER_SAMPLE, 42), { previous: previousClusters }),
      );
      const embedding = steps.timeSync('segments: behaviour embedding', () => new BehaviourEmbedding().fit(matrix));
      const segments = await registerModel(db, {
        kind: 'segments',
        parameters: { clusterSample: CLUSTER_SAMPLE },
        featureVersion: FEATURE_VERSION,
        trainingTo: asOf,
        metrics: {
          customers: matrix.nrow,
          clusterIdsMatchedTo,
          clusters: clusters.clusters.map((c) => ({ id: c.id, size: c.size, description: c.description })),
        },
        artifact: new SegmentsBundle(rfm, clusters, embedding).toJSON(),
        createdBy,
        trainingRun,
      });
      registered.push(await keep(db, segments, input.promote ?? false, createdBy));
    }

    return {
      models: registered.map(({ modelId, kind, version, status, metrics }) => ({ modelId, kind, version, status, metrics })),
      clvChoice,
    };
  }
}
