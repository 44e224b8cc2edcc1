/**
 * Training data and training runs of the churn model, read from the database at past cutoffs.
 *
 * With trainAsOf T and horizon H, the calibration cutoff is c₀ = T − H (the latest cutoff whose label window
 * (c₀, c₀ + H] has fully happened by T) and the training cutoffs are c_k = c₀ − k·step for k = 1…cutoffs.
 * Every cutoff gets its own feature snapshot (models/features) and labels, and every label window ends at or
 * before T, which loadChurnLabels enforces by taking T as the data's as-of: nothing after T is read, so a
 * model trained "as of T" is the model that could really have been trained then.
 */
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { ValidationError } from '../lib/errors';
import { evaluateClassifier, type ClassificationMetrics } from '../models/evaluation/classification';
import { FEATURE_VERSION } from '../features/catalog';
import { computeFeatureSnapshot, loadFeatureMatrix, type FeatureMatrix } from '../features/snapshots';
import { addDays, loadChurnLabels, requireDate, requireHorizonDays } from '../features/churn-labels';
import { ChurnModel, DEFAULT_CHURN_MODEL_PARAMS, type ChurnModelOptions, type ChurnTrainingSet } from '../models/churn/model';

export interface ChurnTrainingDataOptions {
  trainAsOf: Date;
  /** Default DEFAULT_CHURN_HORIZON_DAYS (lib/horizons). */
  horizonDays?: number;
  /** Number of training cutoffs before the calibration cutoff; default 4. */
  cutoffs?: number;
  /** Days between consecutive cutoffs; default 30, so that four cutoffs cover four months of behaviour. */
  stepDays?: number;
}

/** A feature snapshot with its churn labels, row for row. */
export interface LabelledFeatureMatrix extends FeatureMatrix {
  asOf: Date;
  y: Uint8Array;
}

export interface ChurnTrainingData {
  /** The rows of every training cutoff stacked, oldest cutoff first. */
  train: ChurnTrainingSet;
  calibration: LabelledFeatureMatrix;
  /** Oldest first. */
  trainingCutoffs: Date[];
  calibrationCutoff: Date;
  timings: { featureSnapshotsMs: number; labelsMs: number };
}

export async function buildChurnTrainingData(db: Knex, options: ChurnTrainingDataOptions): Promise<ChurnTrainingData> {
  const { trainAsOf } = options;
  const horizonDays = options.horizonDays ?? DEFAULT_CHURN_MODEL_PARAMS.horizonDays;
  const cutoffCount = options.cutoffs ?? 4;
  const stepDays = options.stepDays ?? 30;
  requireDate(trainAsOf, 'trainAsOf');
  requireHorizonDays(horizonDays);
  if (!(Number.isSafeInteger(cutoffCount) && cutoffCount >= 1)) {
    throw new ValidationError(`cutoffs must be a positive integer (got ${cutoffCount})`, 'cutoffs');
  }
  if (!(Number.isFinite(stepDays) && stepDays > 0))
    throw new ValidationError(`stepDays must be a positive number (got ${stepDays})`, 'stepDays');

  const calibrationCutoff = addDays(trainAsOf, -horizonDays);
  const trainingCutoffs = Array.from({ length: cutoffCount }, (_, i) => addDays(calibrationCutoff, -(cutoffCount - i) * stepDays));
  const timings = { featureSnapshotsMs: 0, labelsMs: 0 };
  const training: LabelledFeatureMatrix[] = [];
  for (const cutoff of trainingCutoffs) training.push(await labelledSnapshot(db, cutoff, horizonDays, trainAsOf, timings));
  const calibration = await labelledSnapshot(db, calibrationCutoff, horizonDays, trainAsOf, timings);
  return { train: stackRows(training), calibration, trainingCutoffs, calibrationCutoff, timings };
}

/**
 * Features as of `asOf` (the snapshot is computed, or recomputed: snapshots are idempotent) and labels of
 * (asOf, asOf + horizonDays], refused unless that window ends by `dataAsOf`.
 */
export async function labelledSnapshot(
  db: Knex,
  asOf: Date,
  horizonDays: number,
  dataAsOf: Date,
  timings: { featureSnapshotsMs: number; labelsMs: number },
): Promise<LabelledFeatureMatrix> {
  const started = performance.now();
  await computeFeatureSnapshot(db, asOf);
  const matrix = await loadFeatureMatrix(db, asOf, FEATURE_VERSION);
  const loaded = performance.now();
  if (matrix.nrow === 0) throw new ValidationError(`No customer had bought by ${asOf.toISOString()}: nothing to label`, 'asOf');
  const y = await loadChurnLabels(db, asOf, horizonDays, matrix.customerIds, { dataAsOf });
  timings.featureSnapshotsMs += loaded - started;
  timings.labelsMs += performance.now() - loaded;
  return { ...matrix, asOf, y };
}

function stackRows(parts: readonly LabelledFeatureMatrix[]): ChurnTrainingSet {
  const { ncol, featureNames } = parts[0];
  const nrow = parts.reduce((rows, part) => rows + part.nrow, 0);
  const X = new Float32Array(nrow * ncol);
  const y = new Uint8Array(nrow);
  let row = 0;
  for (const part of parts) {
    X.set(part.X, row * ncol);
    y.set(part.y, row);
    row += part.nrow;
  }
  return { X, nrow, ncol, y, featureNames };
}

export interface TrainChurnModelOptions extends ChurnTrainingDataOptions {
  /** Model parameters; horizonDays is taken from the options above. */
  model?: Omit<ChurnModelOptions, 'horizonDays'>;
}

export interface TrainedChurnModel {
  /** The caller owns it: dispose() frees its native booster. */
  model: ChurnModel;
  /**
   * On the calibration cutoff. Ranking metrics there are out of sample for the booster; calibration metrics
   * (Brier, ECE) are in sample for the calibrator fitted on these very rows, so only a backtest judges them.
   */
  metrics: ClassificationMetrics;
  trainingCutoffs: Date[];
  calibrationCutoff: Date;
  rows: { training: number; calibration: number };
  timings: { featureSnapshotsMs: number; labelsMs: number; trainingMs: number };
}

export async function trainChurnModel(db: Knex, options: TrainChurnModelOptions): Promise<TrainedChurnModel> {
  const data = await buildChurnTrainingData(db, options);
  return fitChurnModel(data, options);
}

/** The model fitted on data already built, for callers (the backtest) that also need the data itself. */
export function fitChurnModel(data: ChurnTrainingData, options: TrainChurnModelOptions): TrainedChurnModel {
  const horizonDays = options.horizonDays ?? DEFAULT_CHURN_MODEL_PARAMS.horizonDays;
  const started = performance.now();
  const model = new ChurnModel({ ...options.model, horizonDays }).fit(data.train, data.calibration);
  const trainingMs = performance.now() - started;
  try {
    return {
      model,
      metrics: evaluateClassifier(data.calibration.y, model.predictProba(data.calibration.X, data.calibration.nrow)),
      trainingCutoffs: data.trainingCutoffs,
      calibrationCutoff: data.calibrationCutoff,
      rows: { training: data.train.nrow, calibration: data.calibration.nrow },
      timings: { ...data.timings, trainingMs },
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
