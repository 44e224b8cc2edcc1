/**
 * An XGBoost Booster: parameters, the training loop with evaluation and early stopping, prediction and
 * JSON (de)serialisation. Like DMatrix it owns native memory: call free().
 *
 * The best iteration found by early stopping is kept where XGBoost's Python package keeps it, in the
 * booster's "best_iteration" and "best_score" attributes, so it survives saveJson()/loadJson() and a
 * model moved to or from Python predicts with the same trees.
 */
import { ModelError, ValidationError } from '../../lib/errors';
import type { DMatrix } from './dmatrix';
import { EarlyStopping } from './early-stopping';
import { parseEvaluation, type IterationEvaluation } from './evaluation';
import { loadXGBoost, type BoosterHandle, type NativePredictionType, type XGBoostLibrary } from './library';
import { requireNonNegativeInteger, requirePositiveInteger } from './validation';

export type BoosterParamValue = string | number | boolean;
/** XGBoost parameters by their XGBoost names. An array sets the parameter once per value (eval_metric). */
export type BoosterParams = Readonly<Record<string, BoosterParamValue | readonly BoosterParamValue[]>>;

export type PredictionType = 'value' | 'margin' | 'contributions' | 'approximate-contributions';

const NATIVE_PREDICTION_TYPES: Record<PredictionType, NativePredictionType> = {
  value: 0,
  margin: 1,
  contributions: 2,
  'approximate-contributions': 3,
};

export interface PredictOptions {
  /**
   * value: transformed prediction (a probability for binary:logistic); margin: untransformed score;
   * contributions: SHAP values, nrow × (features + 1), the last column being the bias; approximate-contributions: the
   * same shape by Saabas's path method (XGBoost's approx_contribs).
   */
  type?: PredictionType;
  /** Use trees of iterations [0, iterationEnd); 0 means all. Defaults to bestIteration + 1 when known. */
  iterationEnd?: number;
}

export interface Prediction {
  /** Row-major and owned by the caller. */
  values: Float32Array;
  shape: number[];
}

export interface EvalSet {
  name: string;
  data: DMatrix;
}

export interface TrainOptions {
  rounds: number;
  evalSets?: readonly EvalSet[];
  /** Stop after this many rounds without improvement of the last metric on the last evaluation set. */
  earlyStoppingRounds?: number;
  onIteration?: (evaluation: IterationEvaluation) => void;
}

export interface TrainingSummary {
  /** Rounds boosted by this call (fewer than asked when early stopping triggered). */
  rounds: number;
  bestIteration: number | undefined;
  bestScore: number | undefined;
  history: IterationEvaluation[];
}

const BEST_ITERATION_ATTRIBUTE = 'best_iteration';
const BEST_SCORE_ATTRIBUTE = 'best_score';

export class Booster {
  #handle: BoosterHandle | undefined;

  private constructor(
    readonly library: XGBoostLibrary,
    handle: BoosterHandle,
  ) {
    this.#handle = handle;
  }

  /**
   * `cache` lists the matrices the booster will train and evaluate on. XGBoost learns the number of
   * features from them, so a new booster can only train if its training matrix is in the cache.
   */
  static create(params: BoosterParams = {}, cache: readonly DMatrix[] = [], library?: XGBoostLibrary): Booster {
    const lib = library ?? cache[0]?.library ?? loadXGBoost();
    const booster = new Booster(lib, lib.createBooster(cache.map((matrix) => matrix.handle)));
    try {
      booster.setParams(params);
    } catch (error) {
      booster.free();
      throw error;
    }
    return booster;
  }

  /** A booster from a model saved by saveJson() or by XGBoost elsewhere (e.g. Python's save_model). */
  static loadJson(json: string, library: XGBoostLibrary = loadXGBoost()): Booster {
    if (typeof json !== 'string') throw new ValidationError('json must be a string', 'json');
    const booster = new Booster(library, library.createBooster([]));
    try {
      library.loadModelJson(booster.handle, json);
    } catch (error) {
      booster.free();
      throw error;
    }
    return booster;
  }

  /** The native handle; throws once the booster has been freed. */
  get handle(): BoosterHandle {
    if (this.#handle === undefined) throw new ModelError('This Booster has been freed and can no longer be used');
    return this.#handle;
  }

  get isFreed(): boolean {
    return this.#handle === undefined;
  }

  /** The iteration early stopping chose, if any; predict() uses trees up to and including it by default. */
  get bestIteration(): number | undefined {
    const value = this.library.getBoosterAttribute(this.handle, BEST_ITERATION_ATTRIBUTE);
    return value === undefined ? undefined : Number(value);
  }

  get bestScore(): number | undefined {
    const value = this.library.getBoosterAttribute(this.handle, BEST_SCORE_ATTRIBUTE);
    return value === undefined ? undefined : Number(value);
  }

  boostedRounds(): number {
    return this.library.boostedRounds(this.handle);
  }

  setParam(name: string, value: BoosterParamValue | readonly BoosterParamValue[]): void {
    const values: readonly BoosterParamValue[] = Array.isArray(value) ? value : [value];
    for (const single of values) this.library.setBoosterParam(this.handle, name, String(single));
  }

  setParams(params: BoosterParams): void {
    for (const [name, value] of Object.entries(params)) this.setParam(name, value);
  }

  /** Boosts `rounds` more rounds on `dtrain` (continuing from a loaded or trained model). */
  train(dtrain: DMatrix, options: TrainOptions): TrainingSummary {
    const rounds = requirePositiveInteger(options.rounds, 'rounds');
    const evalSets = options.evalSets ?? [];
    checkEvalSetNames(evalSets);
    const earlyStopping = this.earlyStoppingFor(options.earlyStoppingRounds, evalSets);

    const datasetNames = evalSets.map((set) => set.name);
    const firstIteration = this.boostedRounds();
    const history: IterationEvaluation[] = [];
    for (let iteration = firstIteration; iteration < firstIteration + rounds; iteration++) {
      this.library.updateOneIteration(this.handle, iteration, dtrain.handle);
      const metrics =
        evalSets.length === 0
          ? []
          : parseEvaluation(
              this.library.evaluateOneIteration(
                this.handle,
                iteration,
                evalSets.map((set) => set.data.handle),
                datasetNames,
              ),
              datasetNames,
            );
      const evaluation = { iteration, metrics };
      history.push(evaluation);
      options.onIteration?.(evaluation);
      if (earlyStopping?.update(iteration, metrics[metrics.length - 1])) break;
    }

    const best = earlyStopping?.best;
    if (best) {
      this.library.setBoosterAttribute(this.handle, BEST_ITERATION_ATTRIBUTE, String(best.iteration));
      this.library.setBoosterAttribute(this.handle, BEST_SCORE_ATTRIBUTE, String(best.score));
    }
    return { rounds: history.length, bestIteration: best?.iteration, bestScore: best?.score, history };
  }

  predict(data: DMatrix, options: PredictOptions = {}): Prediction {
    const type = options.type ?? 'value';
    if (!Object.hasOwn(NATIVE_PREDICTION_TYPES, type)) {
      throw new ValidationError(`type must be one of ${Object.keys(NATIVE_PREDICTION_TYPES).join(', ')}`, 'type');
    }
    const iterationEnd =
      options.iterationEnd === undefined ? this.defaultIterationEnd() : requireNonNegativeInteger(options.iterationEnd, 'iterationEnd');
    return this.library.predict(this.handle, data.handle, NATIVE_PREDICTION_TYPES[type], iterationEnd);
  }

  saveJson(): string {
    return this.library.saveModelJson(this.handle);
  }

  /** Releases the native booster. Safe to call more than once. */
  free(): void {
    if (this.#handle === undefined) return;
    const handle = this.#handle;
    this.#handle = undefined;
    this.library.freeBooster(handle);
  }

  private defaultIterationEnd(): number {
    const best = this.bestIteration;
    return best === undefined ? 0 : best + 1;
  }

  private earlyStoppingFor(earlyStoppingRounds: number | undefined, evalSets: readonly EvalSet[]): EarlyStopping | undefined {
    if (earlyStoppingRounds === undefined) return undefined;
    const patience = requirePositiveInteger(earlyStoppingRounds, 'earlyStoppingRounds');
    if (evalSets.length === 0) {
      throw new ValidationError('earlyStoppingRounds needs at least one evaluation set', 'evalSets');
    }
    return new EarlyStopping(patience);
  }
}

/** Names end up in XGBoost's tab- and colon-separated evaluation text, so they must not contain either. */
function checkEvalSetNames(evalSets: readonly EvalSet[]): void {
  const seen = new Set<string>();
  for (const { name } of evalSets) {
    if (typeof name !== 'string' || !/^[^\s:]+$/.test(name) || seen.has(name)) {
      throw new ValidationError(
        `evaluation set names must be unique, non-empty and free of whitespace and ':' (got ${JSON.stringify(name)})`,
        'evalSets',
      );
    }
    seen.add(name);
  }
}
