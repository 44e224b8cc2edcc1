/**
 * A regularised logistic regression of churn on the same features as the boosted model: XGBoost's linear booster
 * (gblinear, coordinate descent: deterministic) with L2 (lambda) and L1 (alpha) penalties, on features made
 * comparable first. Each column is log-compressed (sign(x)·log(1 + |x|): counts, money and days are heavy-tailed),
 * standardised with the training rows' mean and standard deviation and clipped to ±5 standard deviations; a missing
 * value becomes 0, the average, since a linear model has no "default direction" for it. Scores are the model's
 * probabilities before calibration; the bake-off (./candidates.ts) calibrates them like every candidate's.
 */
import { z } from 'zod';
import { ModelError, ValidationError } from '../../lib/errors';
import { XGBoostModel, type XGBoostModelState } from '../xgboost';
import { splitRows, takeRows, takeValues } from './validation-split';

export interface LogisticParams {
  /** L2 penalty on the weights. */
  lambda: number;
  /** L1 penalty on the weights. */
  alpha: number;
  rounds: number;
  earlyStoppingRounds: number;
  seed: number;
  validationFraction: number;
}

export const DEFAULT_LOGISTIC_PARAMS: LogisticParams = {
  lambda: 1,
  alpha: 0.001,
  rounds: 300,
  earlyStoppingRounds: 20,
  seed: 42,
  validationFraction: 0.2,
};

export interface LogisticChurnJSON {
  format: 'foresight.churn-logistic.v1';
  params: LogisticParams;
  featureNames: string[];
  means: number[];
  deviations: number[];
  linear: XGBoostModelState;
}

const CLIP = 5;
const compress = (x: number) => Math.sign(x) * Math.log1p(Math.abs(x));

const jsonSchema = z
  .object({
    format: z.literal('foresight.churn-logistic.v1'),
    params: z.object({
      lambda: z.number().min(0),
      alpha: z.number().min(0),
      rounds: z.number().int().min(1),
      earlyStoppingRounds: z.number().int().min(1),
      seed: z.number().int().min(0),
      validationFraction: z.number().gt(0).lt(1),
    }),
    featureNames: z.array(z.string()).min(1),
    means: z.array(z.number()),
    deviations: z.array(z.number().positive()),
    linear: z.object({ featureNames: z.array(z.string()) }).passthrough(),
  })
  .strict();

interface Fitted {
  linear: XGBoostModel;
  featureNames: string[];
  means: number[];
  deviations: number[];
}

export class LogisticChurnModel {
  readonly params: LogisticParams;
  #fitted: Fitted | undefined;

  constructor(params: Partial<LogisticParams> = {}) {
    this.params = { ...DEFAULT_LOGISTIC_PARAMS, ...params };
  }

  static fromJSON(json: unknown): LogisticChurnModel {
    const parsed = jsonSchema.safeParse(json);
    if (!parsed.success) throw new ValidationError(`Invalid logistic churn model state: ${parsed.error.issues[0].message}`, 'state');
    const state = parsed.data;
    const model = new LogisticChurnModel(state.params);
    model.#fitted = {
      linear: XGBoostModel.fromJSON(state.linear as unknown as XGBoostModelState),
      featureNames: state.featureNames,
      means: state.means,
      deviations: state.deviations,
    };
    return model;
  }

  fit(X: Float32Array, nrow: number, featureNames: readonly string[], y: ArrayLike<number>): this {
    const ncol = featureNames.length;
    if (X.length !== nrow * ncol) throw new ValidationError(`X has ${X.length} values, not ${nrow} × ${ncol}`, 'X');
    const means = new Array<number>(ncol).fill(0);
    const deviations = new Array<number>(ncol).fill(1);
    for (let j = 0; j < ncol; j++) {
      let n = 0;
      let sum = 0;
      let squares = 0;
      for (let i = 0; i < nrow; i++) {
        const v = X[i * ncol + j];
        if (Number.isNaN(v)) continue;
        const c = compress(v);
        n++;
        sum += c;
        squares += c * c;
      }
      if (n === 0) continue;
      means[j] = sum / n;
      const variance = squares / n - means[j] * means[j];
      deviations[j] = variance > 1e-12 ? Math.sqrt(variance) : 1;
    }
    const Z = standardise(X, nrow, ncol, means, deviations);
    const labels = Float32Array.from(y);
    const { params } = this;
    const split = splitRows(nrow, params.validationFraction, params.seed);
    const linear = new XGBoostModel({
      objective: 'binary:logistic',
      rounds: params.rounds,
      earlyStoppingRounds: params.earlyStoppingRounds,
      seed: params.seed,
      evalMetric: 'logloss',
      params: {
        booster: 'gblinear',
        updater: 'coord_descent',
        feature_selector: 'cyclic',
        lambda: params.lambda,
        alpha: params.alpha,
        eta: 0.5,
      },
    });
    try {
      linear.fit(takeRows(Z, ncol, split.fitting), split.fitting.length, ncol, takeValues(labels, split.fitting), {
        featureNames,
        evalSet: { X: takeRows(Z, ncol, split.validation), nrow: split.validation.length, y: takeValues(labels, split.validation) },
      });
    } catch (error) {
      linear.dispose();
      throw error;
    }
    this.dispose();
    this.#fitted = { linear, featureNames: [...featureNames], means, deviations };
    return this;
  }

  /** Uncalibrated churn probabilities, one per row of X (the training columns). */
  predict(X: Float32Array, nrow: number): Float64Array {
    const { linear, featureNames, means, deviations } = this.fitted();
    return Float64Array.from(linear.predict(standardise(X, nrow, featureNames.length, means, deviations), nrow));
  }

  toJSON(): LogisticChurnJSON {
    const { linear, featureNames, means, deviations } = this.fitted();
    return {
      format: 'foresight.churn-logistic.v1',
      params: { ...this.params },
      featureNames: [...featureNames],
      means: [...means],
      deviations: [...deviations],
      linear: linear.toJSON(),
    };
  }

  dispose(): void {
    this.#fitted?.linear.dispose();
    this.#fitted = undefined;
  }

  private fitted(): Fitted {
    if (this.#fitted === undefined) throw new ModelError('LogisticChurnModel is not fitted: call fit() or fromJSON()');
    return this.#fitted;
  }
}

function standardise(X: Float32Array, nrow: number, ncol: number, means: number[], deviations: number[]): Float32Array {
  const Z = new Float32Array(nrow * ncol);
  for (let i = 0; i < nrow; i++) {
    for (let j = 0; j < ncol; j++) {
      const v = X[i * ncol + j];
      Z[i * ncol + j] = Number.isNaN(v) ? 0 : Math.max(-CLIP, Math.min(CLIP, (compress(v) - means[j]) / deviations[j]));
    }
  }
  return Z;
}
