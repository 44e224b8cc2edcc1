/**
 * XGBoostModel: a scikit-learn style estimator over Booster. Hyperparameters go to the constructor,
 * fit() learns, predict() and contributions() use what was learned, and toJSON()/fromJSON() carry the
 * learned state between processes. Every DMatrix it builds is freed before the call returns; the booster
 * lives until dispose() (or the next fit()).
 */
import { z } from 'zod';
import { NotFittedError, ValidationError } from '../../lib/errors';
import { envelopeFormat, type Envelope, type Estimator } from '../estimator';
import { Booster, type BoosterParams, type Prediction, type PredictionType } from './booster';
import { DMatrix } from './dmatrix';
import type { IterationEvaluation } from './evaluation';
import { loadXGBoost } from './library';
import { PathContributions } from './path-contributions';
import { requireFloat32Array, requireLength, requirePositiveInteger } from './validation';

export interface XGBoostModelOptions {
  /** XGBoost objective; 'binary:logistic' by default. */
  objective?: string;
  /** Boosting rounds; 100 by default. */
  rounds?: number;
  /** Needs fit()'s evalSet; stops when its last evalMetric has not improved for this many rounds. */
  earlyStoppingRounds?: number;
  /** 0 by default; with a fixed nthread the same seed and data give the same model. */
  seed?: number;
  /**
   * Fixed (4) by default rather than "all cores": XGBoost's histogram sums depend on how rows are split
   * between threads, so a model is only reproducible on another machine with the same nthread.
   */
  nthread?: number;
  /** XGBoost eval_metric(s); the objective's default metric when omitted. */
  evalMetric?: string | readonly string[];
  /** Any other XGBoost parameter by its XGBoost name (max_depth, eta, subsample, …). */
  params?: BoosterParams;
  /** Passed to loadXGBoost(). */
  libraryPath?: string;
}

export interface EvalData {
  X: Float32Array;
  nrow: number;
  y: Float32Array;
  weight?: Float32Array;
}

export interface FitOptions {
  /** Evaluated every round (as "validation"); needed for early stopping. */
  evalSet?: EvalData;
  weight?: Float32Array;
  /** One per column; XGBoost's own f0, f1, … by default. */
  featureNames?: readonly string[];
  onIteration?: (evaluation: IterationEvaluation) => void;
}

const XGBOOST_MODEL_JSON = envelopeFormat('foresight.xgboost-model', 1, {
  xgboostModel: z.string(),
  bestIteration: z.number().int().nonnegative().nullable(),
  featureNames: z.array(z.string()).min(1),
});

/** What toJSON() writes: everything fit() learned, nothing about how to fit again. */
export interface XGBoostModelState extends Envelope<typeof XGBOOST_MODEL_JSON.format, typeof XGBOOST_MODEL_JSON.version> {
  /**
   * XGBoost's JSON model as text. Kept as a string rather than nested JSON because re-encoding its
   * float32 numbers through JavaScript doubles could change a split threshold in the last bit.
   */
  xgboostModel: string;
  bestIteration: number | null;
  featureNames: string[];
}

const VALIDATION_SET_NAME = 'validation';

export type ResolvedXGBoostModelOptions = XGBoostModelOptions &
  Required<Pick<XGBoostModelOptions, 'objective' | 'rounds' | 'seed' | 'nthread'>>;

export class XGBoostModel implements Estimator<[Float32Array, number, number, Float32Array, FitOptions?], XGBoostModelState> {
  readonly options: ResolvedXGBoostModelOptions;
  #booster: Booster | undefined;
  #bestIteration: number | undefined;
  #featureNames: readonly string[] = [];
  #evaluationHistory: readonly IterationEvaluation[] = [];
  /** The booster's trees as arrays, for approximateContributions(); dropped whenever the booster changes. */
  #paths: PathContributions | undefined;

  constructor(options: XGBoostModelOptions = {}) {
    this.options = {
      ...options,
      objective: options.objective ?? 'binary:logistic',
      rounds: options.rounds ?? 100,
      seed: options.seed ?? 0,
      nthread: options.nthread ?? 4,
    };
  }

  /** Restores a model written by toJSON() (as an object or as JSON text). */
  static fromJSON(state: unknown, options: XGBoostModelOptions = {}): XGBoostModel {
    const checked = XGBOOST_MODEL_JSON.parse(state);
    const model = new XGBoostModel(options);
    model.#booster = Booster.loadJson(checked.xgboostModel, loadXGBoost(options.libraryPath));
    model.#bestIteration = checked.bestIteration ?? undefined;
    model.#featureNames = [...checked.featureNames];
    return model;
  }

  get isFitted(): boolean {
    return this.#booster !== undefined;
  }

  get bestIteration(): number | undefined {
    return this.#bestIteration;
  }

  get featureNames(): readonly string[] {
    return this.#featureNames;
  }

  /** Per-round metrics of the last fit() (empty without an evalSet, and after fromJSON()). */
  get evaluationHistory(): readonly IterationEvaluation[] {
    return this.#evaluationHistory;
  }

  /** X is row-major, nrow × ncol; y has one label per row. Replaces whatever was learned before. */
  fit(X: Float32Array, nrow: number, ncol: number, y: Float32Array, fitOptions: FitOptions = {}): this {
    requirePositiveInteger(ncol, 'ncol');
    checkMatrix(X, 'X', nrow, 'nrow', ncol);
    requireFloat32Array(y, 'y');
    requireLength(y, nrow, 'y', `one label per row (nrow = ${nrow})`);
    const featureNames = checkFeatureNames(fitOptions.featureNames, ncol);
    const { evalSet } = fitOptions;
    if (evalSet !== undefined) {
      checkMatrix(evalSet.X, 'evalSet.X', evalSet.nrow, 'evalSet.nrow', ncol);
      requireFloat32Array(evalSet.y, 'evalSet.y');
      requireLength(evalSet.y, evalSet.nrow, 'evalSet.y', `one label per row (evalSet.nrow = ${evalSet.nrow})`);
    } else if (this.options.earlyStoppingRounds !== undefined) {
      throw new ValidationError('earlyStoppingRounds needs an evalSet to watch', 'evalSet');
    }

    const library = loadXGBoost(this.options.libraryPath);
    const dtrain = new DMatrix(X, nrow, ncol, { label: y, weight: fitOptions.weight, library });
    let dvalidation: DMatrix | undefined;
    let booster: Booster | undefined;
    try {
      dvalidation = evalSet ? new DMatrix(evalSet.X, evalSet.nrow, ncol, { label: evalSet.y, weight: evalSet.weight, library }) : undefined;
      const cache = dvalidation ? [dtrain, dvalidation] : [dtrain];
      booster = Booster.create(this.boosterParams(), cache, library);
      const summary = booster.train(dtrain, {
        rounds: this.options.rounds,
        evalSets: dvalidation ? [{ name: VALIDATION_SET_NAME, data: dvalidation }] : [],
        earlyStoppingRounds: this.options.earlyStoppingRounds,
        onIteration: fitOptions.onIteration,
      });
      this.dispose();
      this.#booster = booster;
      this.#bestIteration = summary.bestIteration;
      this.#featureNames = featureNames;
      this.#evaluationHistory = summary.history;
    } catch (error) {
      booster?.free();
      throw error;
    } finally {
      dvalidation?.free();
      dtrain.free();
    }
    return this;
  }

  /** Predictions (probabilities for binary:logistic), using trees up to the best iteration when known. */
  predict(X: Float32Array, nrow: number): Float32Array {
    return this.predictWith('value', X, nrow).values;
  }

  /** SHAP contributions, shape [nrow, features + 1]; the last column is the bias, rows sum to the margin. */
  contributions(X: Float32Array, nrow: number): Prediction {
    return this.predictWith('contributions', X, nrow);
  }

  /**
   * XGBoost's approximate (Saabas) contributions computed in JavaScript (./path-contributions.ts), same shape and
   * values as predicting 'approximate-contributions'; the trees are read from the booster once, on the first call.
   */
  approximateContributions(X: Float32Array, nrow: number): Float64Array {
    checkMatrix(X, 'X', nrow, 'nrow', this.#featureNames.length);
    this.#paths ??= new PathContributions(
      this.fittedBooster().saveJson(),
      this.#bestIteration === undefined ? 0 : this.#bestIteration + 1,
      this.#featureNames.length,
    );
    return this.#paths.contributions(X, nrow);
  }

  toJSON(): XGBoostModelState {
    return XGBOOST_MODEL_JSON.wrap({
      xgboostModel: this.fittedBooster().saveJson(),
      bestIteration: this.#bestIteration ?? null,
      featureNames: [...this.#featureNames],
    });
  }

  /** Frees the native booster. Safe to call more than once; fit() or fromJSON() are needed afterwards. */
  dispose(): void {
    this.#booster?.free();
    this.#booster = undefined;
    this.#paths = undefined;
  }

  private boosterParams(): BoosterParams {
    const { objective, seed, nthread, evalMetric, params } = this.options;
    return {
      ...params,
      objective,
      seed,
      nthread,
      ...(evalMetric === undefined ? {} : { eval_metric: evalMetric }),
    };
  }

  private predictWith(type: PredictionType, X: Float32Array, nrow: number): Prediction {
    const booster = this.fittedBooster();
    checkMatrix(X, 'X', nrow, 'nrow', this.#featureNames.length);
    const data = new DMatrix(X, nrow, this.#featureNames.length, { library: booster.library });
    try {
      const iterationEnd = this.#bestIteration === undefined ? 0 : this.#bestIteration + 1;
      return booster.predict(data, { type, iterationEnd });
    } finally {
      data.free();
    }
  }

  private fittedBooster(): Booster {
    if (this.#booster === undefined) throw new NotFittedError('XGBoostModel');
    return this.#booster;
  }
}

function checkMatrix(X: Float32Array, parameter: string, nrow: number, nrowParameter: string, ncol: number): void {
  requireFloat32Array(X, parameter);
  requirePositiveInteger(nrow, nrowParameter);
  requireLength(X, nrow * ncol, parameter, `${nrowParameter} × ncol (${nrow} × ${ncol})`);
}

function checkFeatureNames(names: readonly string[] | undefined, ncol: number): string[] {
  if (names === undefined) return Array.from({ length: ncol }, (_, column) => `f${column}`);
  if (!Array.isArray(names) || names.length !== ncol || !names.every((name) => typeof name === 'string')) {
    throw new ValidationError(`featureNames must be ${ncol} strings, one per column`, 'featureNames');
  }
  return [...names];
}
