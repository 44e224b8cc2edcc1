/**
 * ChurnModel: the probability that a customer makes no purchase in the next `horizonDays`, with the features
 * that drive it in plain language. An estimator in the scikit-learn sense: parameters in the constructor,
 * fit() learns, predictProba()/explain() use what was learned, toJSON()/fromJSON() carry it between processes.
 * It never reads the database: models/churn/training.ts builds its inputs.
 *
 * Two stages, fitted on different data on purpose:
 * 1. XGBoost (binary:logistic) on rows from several past cutoffs, boosting until the log loss on a seeded
 *    validation share of those rows stops improving.
 * 2. A calibrator (isotonic by default) on a later, held-out cutoff. Churn rates drift between periods, and
 *    boosted trees are not calibrated even in-sample; mapping scores to the rates observed at the latest
 *    fully labelled cutoff makes "0.7" mean "7 in 10 such customers did not buy again".
 */
import { z } from 'zod';
import { NotFittedError, ValidationError } from '../../lib/errors';
import { DEFAULT_CHURN_HORIZON_DAYS } from '../../lib/horizons';
import {
  calibratorFromJSON,
  calibrationMethods,
  createCalibrator,
  type CalibrationMethod,
  type Calibrator,
  type CalibratorJSON,
} from '../calibration';
import { envelopeFormat, type Envelope, type Estimator } from '../estimator';
import type { BinaryLabels } from '../evaluation/inputs';
import { FEATURE_VERSION } from '../../features/catalog';
import { XGBoostModel, type XGBoostModelState } from '../xgboost';
import { driverSentence, type FeatureValues } from './drivers';
import { monotoneConstraints } from './monotone';
import { splitRows, takeRows, takeValues } from './validation-split';

export interface ChurnXGBoostParams {
  maxDepth: number;
  eta: number;
  /** Upper bound on boosting rounds; early stopping usually ends sooner. */
  rounds: number;
  /** Stop after this many rounds without a lower validation log loss. */
  earlyStoppingRounds: number;
  subsample: number;
  colsampleByTree: number;
  minChildWeight: number;
  /** Seeds XGBoost's row and column sampling and the validation split. */
  seed: number;
  /** Share of the training rows held out for early stopping. */
  validationFraction: number;
  /** Constrain the features whose direction is known (./monotone.ts) to move churn risk only that way. */
  monotone: boolean;
}

/**
 * Calibrated probabilities below `medium` are low risk, from `medium` up to `high` medium risk, and from
 * `high` up high risk. Absolute probabilities rather than quantiles, so a band means the same thing in every
 * scoring run; with churn base rates near 70% (many one-time buyers) most customers are high risk, as they are.
 */
export interface RiskBandThresholds {
  medium: number;
  high: number;
}

export type RiskBand = 'low' | 'medium' | 'high';

export interface ChurnModelParams {
  /** The label window the model predicts: no completed order in (as_of, as_of + horizonDays]. */
  horizonDays: number;
  xgboost: ChurnXGBoostParams;
  calibration: CalibrationMethod;
  riskBands: RiskBandThresholds;
}

export type ChurnModelOptions = Partial<Omit<ChurnModelParams, 'xgboost'>> & { xgboost?: Partial<ChurnXGBoostParams> };

export const DEFAULT_CHURN_MODEL_PARAMS: ChurnModelParams = {
  horizonDays: DEFAULT_CHURN_HORIZON_DAYS,
  xgboost: {
    maxDepth: 4,
    eta: 0.1,
    rounds: 300,
    earlyStoppingRounds: 30,
    subsample: 0.8,
    colsampleByTree: 0.8,
    minChildWeight: 5,
    seed: 42,
    validationFraction: 0.2,
    monotone: true,
  },
  calibration: 'isotonic',
  riskBands: { medium: 0.3, high: 0.6 },
};

const fraction = z.number().gt(0).lt(1);
const paramsSchema = z
  .object({
    horizonDays: z.number().positive(),
    xgboost: z
      .object({
        maxDepth: z.number().int().min(1).max(16),
        eta: z.number().gt(0).max(1),
        rounds: z.number().int().min(1),
        earlyStoppingRounds: z.number().int().min(1),
        subsample: z.number().gt(0).max(1),
        colsampleByTree: z.number().gt(0).max(1),
        minChildWeight: z.number().min(0),
        seed: z.number().int().min(0),
        validationFraction: fraction,
        monotone: z.boolean(),
      })
      .strict(),
    calibration: z.enum(calibrationMethods as [CalibrationMethod, ...CalibrationMethod[]]),
    riskBands: z
      .object({ medium: fraction, high: fraction })
      .strict()
      .refine((bands) => bands.medium < bands.high, { message: 'medium must be below high', path: ['medium'] }),
  })
  .strict();

/** Training rows: features and churn labels (1 = churned) from the training cutoffs. */
export interface ChurnTrainingSet {
  X: Float32Array;
  nrow: number;
  ncol: number;
  y: BinaryLabels;
  featureNames: readonly string[];
}

/** The held-out later cutoff the calibrator learns on; same columns as the training rows. */
export interface ChurnCalibrationSet {
  X: Float32Array;
  nrow: number;
  y: BinaryLabels;
}

export interface ChurnDriver {
  feature: string;
  /** The customer's value of the feature; null where it has none (NaN in the matrix). */
  value: number | null;
  /** Contribution (XGBoost's approximate, Saabas) in log-odds of the uncalibrated score: positive pushes toward churn. */
  contribution: number;
  sentence: string;
}

export interface ExplainOptions {
  /** Drivers per row; default 3. */
  top?: number;
}

export interface ChurnModelJSON extends Envelope<typeof CHURN_MODEL_JSON.format, typeof CHURN_MODEL_JSON.version> {
  featureVersion: string;
  featureNames: string[];
  params: ChurnModelParams;
  xgboost: XGBoostModelState;
  calibrator: CalibratorJSON;
}

const CHURN_MODEL_JSON = envelopeFormat('foresight.churn-model', 1, {
  featureVersion: z.string(),
  featureNames: z.array(z.string()).min(1),
  params: paramsSchema,
  xgboost: z.unknown(),
  calibrator: z.unknown(),
});

interface Fitted {
  booster: XGBoostModel;
  calibrator: Calibrator;
  featureNames: string[];
}

export class ChurnModel implements Estimator<[ChurnTrainingSet, ChurnCalibrationSet], ChurnModelJSON> {
  readonly params: ChurnModelParams;
  #fitted: Fitted | undefined;

  constructor(options: ChurnModelOptions = {}) {
    this.params = parseParams({
      ...DEFAULT_CHURN_MODEL_PARAMS,
      ...options,
      xgboost: { ...DEFAULT_CHURN_MODEL_PARAMS.xgboost, ...options.xgboost },
    });
  }

  /** Restores a model written by toJSON(), as an object or as JSON text. */
  static fromJSON(json: unknown): ChurnModel {
    const state = CHURN_MODEL_JSON.parse(json);
    if (state.featureVersion !== FEATURE_VERSION) {
      throw new ValidationError(
        `This churn model reads feature version ${state.featureVersion}; this build computes version ${FEATURE_VERSION}`,
        'featureVersion',
      );
    }
    const calibrator = calibratorFromJSON(state.calibrator);
    const booster = XGBoostModel.fromJSON(state.xgboost);
    if (JSON.stringify(booster.featureNames) !== JSON.stringify(state.featureNames)) {
      booster.dispose();
      throw new ValidationError('Churn model state: the booster was trained on other features than featureNames lists', 'featureNames');
    }
    const model = new ChurnModel(state.params);
    model.#fitted = { booster, calibrator, featureNames: state.featureNames };
    return model;
  }

  get isFitted(): boolean {
    return this.#fitted !== undefined;
  }

  get featureNames(): readonly string[] {
    return this.fitted().featureNames;
  }

  /** The last boosting round kept by early stopping (0-based). */
  get bestIteration(): number | undefined {
    return this.fitted().booster.bestIteration;
  }

  /** Replaces whatever was learned before. */
  fit(train: ChurnTrainingSet, calibration: ChurnCalibrationSet): this {
    const { X, nrow, ncol, featureNames } = train;
    if (!Array.isArray(featureNames) || featureNames.length !== ncol) {
      throw new ValidationError(`featureNames must name each of the ${ncol} columns`, 'featureNames');
    }
    if (!(Number.isSafeInteger(nrow) && nrow >= 2)) throw new ValidationError(`train.nrow must be at least 2 (got ${nrow})`, 'nrow');
    checkLabels(train.y, nrow, 'train.y');
    checkLabels(calibration.y, calibration.nrow, 'calibration.y');
    const labels = Float32Array.from(train.y); // XGBoost takes float labels

    const { xgboost } = this.params;
    const split = splitRows(nrow, xgboost.validationFraction, xgboost.seed);
    const booster = new XGBoostModel({
      objective: 'binary:logistic',
      rounds: xgboost.rounds,
      earlyStoppingRounds: xgboost.earlyStoppingRounds,
      seed: xgboost.seed,
      evalMetric: 'logloss',
      params: {
        tree_method: 'hist',
        max_depth: xgboost.maxDepth,
        eta: xgboost.eta,
        subsample: xgboost.subsample,
        colsample_bytree: xgboost.colsampleByTree,
        min_child_weight: xgboost.minChildWeight,
        ...(xgboost.monotone ? { monotone_constraints: monotoneConstraints(featureNames) } : {}),
      },
    });
    try {
      booster.fit(takeRows(X, ncol, split.fitting), split.fitting.length, ncol, takeValues(labels, split.fitting), {
        featureNames,
        evalSet: { X: takeRows(X, ncol, split.validation), nrow: split.validation.length, y: takeValues(labels, split.validation) },
      });
      const calibrator = createCalibrator(this.params.calibration).fit(booster.predict(calibration.X, calibration.nrow), calibration.y);
      this.dispose();
      this.#fitted = { booster, calibrator, featureNames: [...featureNames] };
    } catch (error) {
      booster.dispose();
      throw error;
    }
    return this;
  }

  /** Calibrated churn probabilities, one per row of X (row-major, the training columns). */
  predictProba(X: Float32Array, nrow: number): Float64Array {
    const { booster, calibrator } = this.fitted();
    return calibrator.predict(booster.predict(X, nrow));
  }

  riskBand(probability: number): RiskBand {
    if (!(probability >= 0 && probability <= 1)) {
      throw new ValidationError(`probability must lie in [0, 1] (got ${probability})`, 'probability');
    }
    if (probability < this.params.riskBands.medium) return 'low';
    return probability < this.params.riskBands.high ? 'medium' : 'high';
  }

  /**
   * Per row, the `top` features with the largest contributions: those pushing toward churn first (largest first), then
   * those holding it back (largest first), ties in column order. Contributions are XGBoost's approximate (Saabas) ones,
   * not exact TreeSHAP: a few microseconds a customer instead of half a millisecond, and the top driver is the same as
   * exact SHAP's for most customers (test/models/churn-model.test.ts). They are in the booster's log-odds, before
   * calibration, which is monotone and so keeps their direction.
   */
  explain(X: Float32Array, nrow: number, options: ExplainOptions = {}): ChurnDriver[][] {
    const top = options.top ?? 3;
    if (!(Number.isSafeInteger(top) && top >= 1)) throw new ValidationError(`top must be a positive integer (got ${top})`, 'top');
    const { booster, featureNames } = this.fitted();
    const ncol = featureNames.length;
    const contributions = booster.approximateContributions(X, nrow);
    const width = ncol + 1; // the last column is the bias
    const kept = Math.min(top, ncol);
    const ranked = new Int32Array(kept);
    // One object reused for every row: the sentences read it before the next row overwrites it.
    const values: Record<string, number> = {};
    const explanations: ChurnDriver[][] = new Array(nrow);
    for (let row = 0; row < nrow; row++) {
      for (let j = 0; j < ncol; j++) values[featureNames[j]!] = X[row * ncol + j]!;
      const c = row * width;
      let count = 0;
      for (let j = 0; j < ncol; j++) {
        // Insertion into the `kept` best so far; an equal one stays behind those of lower columns.
        if (count === kept && driverOrder(contributions[c + j]!, contributions[c + ranked[kept - 1]!]!) >= 0) continue;
        let at = count < kept ? count++ : kept - 1;
        while (at > 0 && driverOrder(contributions[c + j]!, contributions[c + ranked[at - 1]!]!) < 0) {
          ranked[at] = ranked[at - 1]!;
          at--;
        }
        ranked[at] = j;
      }
      const drivers: ChurnDriver[] = new Array(count);
      for (let k = 0; k < count; k++) drivers[k] = driver(featureNames[ranked[k]!]!, values, contributions[c + ranked[k]!]!);
      explanations[row] = drivers;
    }
    return explanations;
  }

  toJSON(): ChurnModelJSON {
    const { booster, calibrator, featureNames } = this.fitted();
    return CHURN_MODEL_JSON.wrap({
      featureVersion: FEATURE_VERSION,
      featureNames: [...featureNames],
      params: structuredClone(this.params),
      xgboost: booster.toJSON(),
      calibrator: calibrator.toJSON(),
    });
  }

  /** Frees the native booster; fit() or fromJSON() are needed afterwards. Safe to call more than once. */
  dispose(): void {
    this.#fitted?.booster.dispose();
    this.#fitted = undefined;
  }

  private fitted(): Fitted {
    if (this.#fitted === undefined) throw new NotFittedError('ChurnModel');
    return this.#fitted;
  }
}

/** Toward churn before away from it, each by size; features that did not move the score last. */
function driverOrder(a: number, b: number): number {
  const side = (c: number) => (c > 0 ? 0 : c < 0 ? 1 : 2);
  return side(a) - side(b) || Math.abs(b) - Math.abs(a);
}

function driver(feature: string, values: FeatureValues, contribution: number): ChurnDriver {
  const value = values[feature];
  return { feature, value: Number.isNaN(value) ? null : value, contribution, sentence: driverSentence(feature, values) };
}

function parseParams(candidate: unknown): ChurnModelParams {
  const parsed = paramsSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.');
    throw new ValidationError(`Invalid churn model parameter ${field}: ${issue.message}`, field);
  }
  return parsed.data;
}

/** Anything but one 0 or 1 per row is refused before fitting, naming the set it came from. */
function checkLabels(y: BinaryLabels, nrow: number, parameter: string): void {
  if (y.length !== nrow) throw new ValidationError(`${parameter} has ${y.length} labels for ${nrow} rows`, parameter);
  for (let i = 0; i < nrow; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new ValidationError(`${parameter}[${i}] is ${y[i]}; labels must be 0 or 1`, parameter);
  }
}
