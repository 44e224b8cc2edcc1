import { z } from 'zod';
import { NotFittedError, ValidationError } from '../../lib/errors';
import { envelopeFormat, parseOrThrow, type Envelope, type Estimator } from '../estimator';
import { XGBoostModel, type BoosterParams, type XGBoostModelState } from '../xgboost';

/** Row-major features, NaN for missing (a FeatureMatrix fits). */
export interface FeatureRows {
  featureNames: readonly string[];
  X: Float32Array;
  nrow: number;
  ncol: number;
}

export interface GbmClvOptions {
  /** The horizon the targets cover, in days; recorded so that a served model says what it forecasts. */
  horizonDays: number;
  /** Tweedie variance power in (1, 2): a point mass at zero (no purchase) plus a skewed positive amount. Default 1.5. */
  tweedieVariancePower: number;
  /** Upper bound on boosting rounds; early stopping usually ends sooner. Default 1000. */
  maxRounds: number;
  /** Stop when the validation deviance has not improved for this many rounds. Default 30. */
  earlyStoppingRounds: number;
  /** Every validationEvery-th row is held out of training to watch for early stopping. Default 5 (20%). */
  validationEvery: number;
  /** Tree parameters by their XGBoost names; defaults below. */
  params: BoosterParams;
  seed: number;
}

/**
 * From this many training rows on, splits are searched on histograms (XGBoost's tree_method hist, as the churn model's)
 * unless params say otherwise; below it, by XGBoost's default exact greedy search. Exact costs little on a small shop
 * but grows fast: 96,265 rows took 121 s exact and 8 s on histograms (bench/RESULTS.md, "Training time").
 */
export const HISTOGRAM_FROM_ROWS = 20_000;

export type GbmClvOptionsInput = Partial<GbmClvOptions> & Pick<GbmClvOptions, 'horizonDays'>;

/** Shallow trees, slow learning rate, row and column subsampling: a conventional, untuned start. */
export const DEFAULT_GBM_TREE_PARAMS: BoosterParams = {
  max_depth: 4,
  eta: 0.05,
  subsample: 0.8,
  colsample_bytree: 0.8,
  min_child_weight: 5,
};

const optionsSchema = z.object({
  horizonDays: z.number().positive().finite(),
  tweedieVariancePower: z.number().gt(1).lt(2),
  maxRounds: z.number().int().positive(),
  earlyStoppingRounds: z.number().int().positive(),
  validationEvery: z.number().int().min(2),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  seed: z.number().int().nonnegative(),
});

const GBM_CLV_JSON = envelopeFormat('foresight.gbm-clv', 1, { options: optionsSchema, xgboost: z.unknown() });

export interface GbmClvJSON extends Envelope<typeof GBM_CLV_JSON.format, typeof GBM_CLV_JSON.version> {
  options: GbmClvOptions;
  xgboost: XGBoostModelState;
}

/**
 * Gradient-boosted CLV: XGBoost with a Tweedie objective on customer features at a cutoff c, the target being
 * the net revenue each customer actually brought in (c, c + horizon]. Tweedie suits the target: most customers buy
 * nothing (exact zeros) and the rest spend a right-skewed amount; the prediction is the expected amount itself.
 * Estimator contract as scikit-learn; toJSON/fromJSON carry the trees. No database access.
 */
export class GbmClv implements Estimator<[FeatureRows, ArrayLike<number>], GbmClvJSON> {
  readonly options: GbmClvOptions;
  private booster: XGBoostModel | undefined;

  constructor(options: GbmClvOptionsInput) {
    this.options = parseOrThrow(
      optionsSchema,
      {
        tweedieVariancePower: 1.5,
        maxRounds: 1000,
        earlyStoppingRounds: 30,
        validationEvery: 5,
        seed: 0,
        ...options,
        params: { ...DEFAULT_GBM_TREE_PARAMS, ...options.params },
      },
      'GbmClv options',
    );
  }

  static fromJSON(json: unknown): GbmClv {
    const parsed = GBM_CLV_JSON.parse(json);
    const model = new GbmClv(parsed.options);
    model.booster = XGBoostModel.fromJSON(parsed.xgboost, model.xgboostOptions());
    return model;
  }

  toJSON(): GbmClvJSON {
    return GBM_CLV_JSON.wrap({ options: structuredClone(this.options), xgboost: this.fitted().toJSON() });
  }

  /**
   * Learns net revenue over the horizon from the features. Every validationEvery-th row (rows come in customer-id
   * order, unrelated to the outcome) is held out for early stopping, so the number of trees adapts to the data.
   */
  fit(features: FeatureRows, netRevenue: ArrayLike<number>): this {
    const { X, nrow, ncol, featureNames } = features;
    if (netRevenue.length !== nrow) throw new ValidationError(`netRevenue has ${netRevenue.length} values for ${nrow} rows`, 'netRevenue');
    const every = this.options.validationEvery;
    if (nrow < 2 * every) throw new ValidationError(`GbmClv needs at least ${2 * every} customers to train on, got ${nrow}`, 'features');
    const validationRows = Math.floor(nrow / every);
    const train = { X: new Float32Array((nrow - validationRows) * ncol), y: new Float32Array(nrow - validationRows) };
    const validation = { X: new Float32Array(validationRows * ncol), y: new Float32Array(validationRows), nrow: validationRows };
    let t = 0;
    let v = 0;
    for (let i = 0; i < nrow; i++) {
      const value = netRevenue[i];
      if (!Number.isFinite(value)) throw new ValidationError(`netRevenue[${i}] is ${value}; it must be finite`, 'netRevenue');
      // Tweedie needs y >= 0; a net refund (possible only through returns not linked to a purchase) is no revenue.
      const label = Math.max(0, value);
      const row = X.subarray(i * ncol, (i + 1) * ncol);
      if (i % every === every - 1) {
        validation.X.set(row, v * ncol);
        validation.y[v++] = label;
      } else {
        train.X.set(row, t * ncol);
        train.y[t++] = label;
      }
    }
    const options = this.xgboostOptions();
    const large = t >= HISTOGRAM_FROM_ROWS && this.options.params.tree_method === undefined;
    const booster = new XGBoostModel(large ? { ...options, params: { ...options.params, tree_method: 'hist' } } : options);
    booster.fit(train.X, t, ncol, train.y, { evalSet: validation, featureNames });
    this.dispose();
    this.booster = booster;
    return this;
  }

  /** Expected net revenue over the horizon, per row. */
  predict(features: FeatureRows): Float64Array {
    const booster = this.fitted();
    const expected = booster.featureNames;
    if (features.ncol !== expected.length || features.featureNames.some((name, j) => name !== expected[j])) {
      throw new ValidationError('features do not match the ones GbmClv was trained on (names and order)', 'features');
    }
    return Float64Array.from(booster.predict(features.X, features.nrow));
  }

  /** Rounds kept by early stopping. */
  get bestIteration(): number | undefined {
    return this.fitted().bestIteration;
  }

  /** Frees the native booster; fit() or fromJSON() are needed afterwards. */
  dispose(): void {
    this.booster?.dispose();
    this.booster = undefined;
  }

  private xgboostOptions() {
    const { tweedieVariancePower, maxRounds, earlyStoppingRounds, params, seed } = this.options;
    return {
      objective: 'reg:tweedie',
      rounds: maxRounds,
      earlyStoppingRounds,
      seed,
      params: { ...params, tweedie_variance_power: tweedieVariancePower },
    };
  }

  private fitted(): XGBoostModel {
    if (!this.booster) throw new NotFittedError('GbmClv');
    return this.booster;
  }
}
