import { z } from 'zod';
import { ModelError, NotFittedError, ValidationError } from '../../lib/errors';
import { DAYS_PER_YEAR, DEFAULT_CLV_HORIZON_MONTHS, MONTHS_PER_YEAR, MS_PER_DAY } from '../../lib/horizons';
import { envelopeFormat, parseOrThrow, type Envelope, type Estimator } from '../estimator';
import {
  aliveProbabilityOf,
  BetaGeoModel,
  conditionalExpectedTransactionsOf,
  medianTimeToNextPurchaseOf,
  type BetaGeoModelJSON,
  type BetaGeoParameterName,
  type BetaGeoParams,
} from './bgnbd';
import { probabilisticFitFlags, type ClvFitFlag } from './fit-diagnostics';
import { fitOptionsSchema, resolveFitOptions, type FittedState } from './fitted-state';
import {
  conditionalExpectedAverageValueOf,
  GammaGammaModel,
  type GammaGammaModelJSON,
  type GammaGammaParameterName,
  type GammaGammaParams,
} from './gamma-gamma';
import { assertHistory } from './per-customer';
import { deltaMethodBounds, type RevenueUnder } from './delta-interval';
import { drawParameters, quantilesByCustomer, resolveInterval, type ClvInterval, type ClvIntervalOptions } from './parameter-sampling';
import type { MaximumLikelihoodOptions } from './maximum-likelihood';

/**
 * The BG/NBD's L2 penalty, with time in years. The penalty acts on the parameters' raw values, and in years α is
 * O(0.1–1), so it leaves r and α alone while keeping a and b off the a, b → ∞ ridge (one dropout probability for
 * everybody) where the likelihood flattens out, the fit cannot converge, and the expectations' hypergeometric series
 * overflows. On CDNOW it moves r and α by under 0.1% and a, b by 10–13% (the total expected purchases by under 2%); in
 * days the same penalty would shrink α to less than half.
 */
export const DEFAULT_BETA_GEO_PENALIZER = 1e-4;

/** What the estimator reads of a customer summary (a ClvSummary fits): time in days, columns aligned. */
export interface ClvHistory {
  asOf: Date;
  frequency: ArrayLike<number>;
  recency: ArrayLike<number>;
  age: ArrayLike<number>;
  meanRepeatValue: ArrayLike<number>;
  expectedReturnShare: ArrayLike<number>;
}

export interface ProbabilisticClvOptions {
  /** Forecast horizon in months of DAYS_PER_MONTH days; fractional months are allowed without discounting. Default DEFAULT_CLV_HORIZON_MONTHS. */
  horizonMonths: number;
  /** Month m's revenue is divided by (1 + d)^m; needs a whole number of months. Default 0. */
  monthlyDiscountRate: number;
  /** Customers younger than this (days since the first purchase) are cold starts. Default 30. */
  coldStartTenureDays: number;
  /** 'high' confidence needs at least this many repeat transactions… Default 3. */
  confidentRepeatTransactions: number;
  /** …and at least this many days since the first purchase. Default 180. */
  confidentTenureDays: number;
  /** Maximum-likelihood options of the BG/NBD, fitted with time in years. Default penalizer DEFAULT_BETA_GEO_PENALIZER. */
  betaGeoFit: MaximumLikelihoodOptions;
  /** Maximum-likelihood options of the Gamma-Gamma (unpenalised by default: its v is in money, so any penalty would bias it). */
  gammaGammaFit: MaximumLikelihoodOptions;
}

export type ClvConfidence = 'low' | 'medium' | 'high';

/**
 * Why a prediction is not 'high'. Low ('single-purchase', 'short-tenure') is a cold start: the models still
 * score these customers, and for them the posterior is essentially the population prior — there is no segment
 * prior here. A single-purchase customer's spend per order is exactly the Gamma-Gamma population mean p·v/(q−1),
 * and their purchases come from the BG/NBD population rate updated only by how long they have stayed quiet (the
 * BG/NBD lets customers drop out only after a repeat purchase, so their pAlive is 1 by construction). Medium:
 * 'few-repeat-purchases' or 'short-history' against the confident thresholds. The first reason that applies is given.
 */
export type ClvConfidenceReason = 'single-purchase' | 'short-tenure' | 'few-repeat-purchases' | 'short-history';

/** Columnar, aligned with the history's customers. */
export interface ProbabilisticClvPrediction {
  /** P(alive) at asOf under the BG/NBD. */
  pAlive: Float64Array;
  /** Expected transactions in (asOf, asOf + horizon]. */
  expectedTransactions: Float64Array;
  /** Gamma-Gamma conditional expected value of a transaction (the population mean p·v/(q−1) when x = 0). */
  expectedSpendPerOrder: Float64Array;
  /** expectedTransactions × expectedSpendPerOrder × (1 − expectedReturnShare), discounted monthly when asked. */
  expectedNetRevenue: Float64Array;
  /**
   * asOf + the median time to the next purchase; null when no purchase is expected within the horizon, i.e. when
   * the probability of one is below 1/2 (this includes every customer more likely dropped out than alive).
   */
  expectedNextOrderAt: (Date | null)[];
  confidence: ClvConfidence[];
  confidenceReason: (ClvConfidenceReason | null)[];
}

export interface ProbabilisticClvFitState {
  betaGeo: FittedState<BetaGeoParameterName>;
  gammaGamma: FittedState<GammaGammaParameterName>;
  /** p·v/(q−1): the spend per order predicted for customers without a repeat purchase. */
  populationMeanSpend: number;
  /** Why the fit is not to be trusted (degenerate or unstable); empty when it is. A flagged fit does not serve. */
  flags: ClvFitFlag[];
}

const optionsSchema = z.object({
  horizonMonths: z.number().positive().finite(),
  monthlyDiscountRate: z.number().gt(-1),
  coldStartTenureDays: z.number().nonnegative(),
  confidentRepeatTransactions: z.number().int().nonnegative(),
  confidentTenureDays: z.number().nonnegative(),
  betaGeoFit: fitOptionsSchema,
  gammaGammaFit: fitOptionsSchema,
});

const PROBABILISTIC_CLV_JSON = envelopeFormat('foresight.probabilistic-clv', 1, {
  timeUnit: z.literal('days'),
  options: optionsSchema,
  betaGeo: z.unknown(),
  gammaGamma: z.unknown(),
});

export interface ProbabilisticClvJSON extends Envelope<typeof PROBABILISTIC_CLV_JSON.format, typeof PROBABILISTIC_CLV_JSON.version> {
  timeUnit: 'days';
  options: ProbabilisticClvOptions;
  betaGeo: BetaGeoModelJSON;
  gammaGamma: GammaGammaModelJSON;
}

interface RevenueColumns {
  frequency: number[];
  recencyYears: number[];
  ageYears: number[];
  meanRepeatValue: number[];
  expectedReturnShare: number[];
}

const inYears = (days: ArrayLike<number>): number[] => Array.from(days, (d) => d / DAYS_PER_YEAR);

export type ProbabilisticClvOptionsInput = Partial<Omit<ProbabilisticClvOptions, 'betaGeoFit' | 'gammaGammaFit'>> & {
  betaGeoFit?: Partial<MaximumLikelihoodOptions>;
  gammaGammaFit?: Partial<MaximumLikelihoodOptions>;
};

function resolveOptions(options: ProbabilisticClvOptionsInput): ProbabilisticClvOptions {
  const resolved = parseOrThrow(
    optionsSchema,
    {
      horizonMonths: DEFAULT_CLV_HORIZON_MONTHS,
      monthlyDiscountRate: 0,
      coldStartTenureDays: 30,
      confidentRepeatTransactions: 3,
      confidentTenureDays: 180,
      ...options,
      betaGeoFit: resolveFitOptions({ penalizer: DEFAULT_BETA_GEO_PENALIZER, ...options.betaGeoFit }),
      gammaGammaFit: resolveFitOptions(options.gammaGammaFit ?? {}),
    },
    'ProbabilisticClv options',
  );
  if (resolved.monthlyDiscountRate !== 0 && !Number.isInteger(resolved.horizonMonths)) {
    throw new ValidationError(
      'discounting is by whole months: horizonMonths must be an integer when monthlyDiscountRate is set',
      'horizonMonths',
    );
  }
  return resolved;
}

/**
 * Customer lifetime value from the BG/NBD (purchases and dropout) and Gamma-Gamma (spend per purchase) models,
 * fitted on a customer summary with time in days (the BG/NBD itself works in years: see DEFAULT_BETA_GEO_PENALIZER).
 * Estimator contract as scikit-learn: options in the constructor, `fit` learns, `predict` needs a fit or `fromJSON`,
 * `toJSON` carries everything learned. No database access.
 */
export class ProbabilisticClv implements Estimator<[ClvHistory], ProbabilisticClvJSON> {
  readonly options: ProbabilisticClvOptions;
  private models: { betaGeo: BetaGeoModel; gammaGamma: GammaGammaModel } | undefined;

  constructor(options: ProbabilisticClvOptionsInput = {}) {
    this.options = resolveOptions(options);
  }

  static fromJSON(json: unknown): ProbabilisticClv {
    const parsed = PROBABILISTIC_CLV_JSON.parse(json);
    const model = new ProbabilisticClv(parsed.options);
    model.models = { betaGeo: BetaGeoModel.fromJSON(parsed.betaGeo), gammaGamma: GammaGammaModel.fromJSON(parsed.gammaGamma) };
    return model;
  }

  toJSON(): ProbabilisticClvJSON {
    const { betaGeo, gammaGamma } = this.fitted();
    return PROBABILISTIC_CLV_JSON.wrap({
      timeUnit: 'days' as const,
      options: structuredClone(this.options),
      betaGeo: betaGeo.toJSON(),
      gammaGamma: gammaGamma.toJSON(),
    });
  }

  /**
   * BG/NBD on every customer; Gamma-Gamma on the repeat buyers with a positive mean repeat value (the model
   * has no zero-spend transactions). Either fit failing to converge is a ModelError.
   */
  fit(history: ClvHistory): this {
    const betaGeo = new BetaGeoModel(this.options.betaGeoFit).fit(history.frequency, inYears(history.recency), inYears(history.age));
    const spenders: number[] = [];
    for (let i = 0; i < history.frequency.length; i++) {
      if (history.frequency[i] > 0 && history.meanRepeatValue[i] > 0) spenders.push(i);
    }
    if (spenders.length === 0) throw new ModelError('Gamma-Gamma needs repeat buyers with a positive spend; the history has none');
    const gammaGamma = new GammaGammaModel(this.options.gammaGammaFit).fit(
      spenders.map((i) => history.frequency[i]),
      spenders.map((i) => history.meanRepeatValue[i]),
    );
    this.models = { betaGeo, gammaGamma };
    return this;
  }

  /** Parameters, standard errors, covariance and convergence of both fits; the BG/NBD's α is in years. */
  get fitState(): ProbabilisticClvFitState {
    const { betaGeo, gammaGamma } = this.fitted();
    const flags = probabilisticFitFlags(betaGeo.fitState, gammaGamma.fitState);
    return {
      betaGeo: betaGeo.fitState,
      gammaGamma: gammaGamma.fitState,
      // Undefined (and flagged) when q <= 1.
      populationMeanSpend: flags.includes('gamma_gamma_mean_undefined') ? Number.NaN : gammaGamma.conditionalExpectedAverageValue(0, 0),
      flags,
    };
  }

  /**
   * A per-customer interval of the expected net revenue that reflects how well the parameters are determined: the
   * parameters follow their asymptotic normal distribution on the log scale (ln θ ~ N(ln θ̂, D⁻¹ Σ D⁻¹), D = diag(θ̂),
   * which keeps every parameter positive), BG/NBD and Gamma-Gamma independently. By default ('delta-method') the log
   * forecast is linearised in the log parameters (models/clv/delta-interval.ts); with 'parameter-sampling' the forecast
   * is recomputed for each drawn parameter set and each customer's interval is the central `level` quantiles of their
   * forecasts. Either is widened if need be to contain the point forecast. It is the uncertainty of the expected value,
   * not of what the customer will actually spend (that is far wider: most customers buy nothing in a given window). A
   * fit without a covariance (flagged `standard_errors_missing`) has no interval: a ModelError.
   */
  predictInterval(history: ClvHistory, options: ClvIntervalOptions = {}): ClvInterval {
    const { betaGeo, gammaGamma } = this.fitted();
    const { level, method } = resolveInterval(options);
    const point = this.predict(history).expectedNetRevenue;
    const columns = this.columns(history);
    const { monthlyDiscountRate, horizonMonths } = this.options;
    const horizonYears = horizonMonths / MONTHS_PER_YEAR;
    const revenue: RevenueUnder = ({ betaGeo: bg, gammaGamma: gg }, from, to, out, at) => {
      if (monthlyDiscountRate !== 0) {
        const models = { betaGeo: BetaGeoModel.fromParams(bg), gammaGamma: GammaGammaModel.fromParams(gg) };
        out.set(this.netRevenue(models, columns, from, to), at);
        return;
      }
      // Undiscounted, the revenue is netRevenue's product, computed here without its per-customer checks and arrays
      // (predict() above checked every history): this runs once per parameter set per customer.
      const { frequency, recencyYears, ageYears, meanRepeatValue, expectedReturnShare } = columns;
      for (let i = from; i < to; i++) {
        const x = frequency[i]!;
        const e = conditionalExpectedTransactionsOf(bg, horizonYears, x, recencyYears[i]!, ageYears[i]!);
        const spend = conditionalExpectedAverageValueOf(gg, x, meanRepeatValue[i]!);
        out[at + i - from] = e * spend * (1 - expectedReturnShare[i]!);
      }
    };
    if (method === 'delta-method') {
      const bounds = deltaMethodBounds(point, level, betaGeo.fitState, gammaGamma.fitState, revenue);
      return { ...bounds, level, draws: 0, method };
    }
    const draws = drawParameters(betaGeo.fitState, gammaGamma.fitState, options);
    const { lower, upper } = quantilesByCustomer(point, draws.level, draws.parameters.length, (from, to, out, stride) => {
      draws.parameters.forEach((parameters, d) => revenue(parameters, from, to, out, d * stride));
    });
    return { lower, upper, level: draws.level, draws: draws.parameters.length, method };
  }

  predict(history: ClvHistory): ProbabilisticClvPrediction {
    const { betaGeo, gammaGamma } = this.fitted();
    const { frequency, recency, age, meanRepeatValue, expectedReturnShare, asOf } = history;
    const n = frequency.length;
    if (recency.length !== n || age.length !== n || meanRepeatValue.length !== n || expectedReturnShare.length !== n) {
      throw new ValidationError(
        'frequency, recency, age, meanRepeatValue and expectedReturnShare must have one value per customer',
        'history',
      );
    }
    const horizonYears = this.options.horizonMonths / MONTHS_PER_YEAR;
    const bg = betaGeo.fitState.params as BetaGeoParams;
    const gg = gammaGamma.fitState.params as GammaGammaParams;
    const pAlive = new Float64Array(n);
    const transactions = new Float64Array(n);
    const spend = new Float64Array(n);
    const netRevenue = new Float64Array(n);
    const medianWaitYears = new Float64Array(n);
    // One pass with the per-customer formulas (the models' array methods check and allocate per call, and scoring
    // calls this for every customer of every run); each history is checked first, as those methods would.
    for (let i = 0; i < n; i++) {
      const x = frequency[i]!;
      const share = expectedReturnShare[i]!;
      const meanValue = meanRepeatValue[i]!;
      if (!(share >= 0 && share <= 1)) {
        throw new ValidationError(`expectedReturnShare must lie in [0, 1], got ${share} (customer ${i})`, 'expectedReturnShare');
      }
      if (!(meanValue >= 0)) throw new ValidationError(`meanValue must be >= 0, got ${meanValue} (customer ${i})`, 'meanValue');
      const recencyYears = recency[i]! / DAYS_PER_YEAR;
      const ageYears = age[i]! / DAYS_PER_YEAR;
      assertHistory(x, recencyYears, ageYears, i);
      pAlive[i] = aliveProbabilityOf(bg, x, recencyYears, ageYears);
      transactions[i] = conditionalExpectedTransactionsOf(bg, horizonYears, x, recencyYears, ageYears);
      spend[i] = conditionalExpectedAverageValueOf(gg, x, meanValue);
      netRevenue[i] = transactions[i]! * spend[i]! * (1 - share);
      medianWaitYears[i] = medianTimeToNextPurchaseOf(bg, x, ageYears, pAlive[i]!);
    }
    // Discounting sums month by month.
    if (this.options.monthlyDiscountRate !== 0) netRevenue.set(this.netRevenue({ betaGeo, gammaGamma }, this.columns(history), 0, n));

    const prediction: ProbabilisticClvPrediction = {
      pAlive,
      expectedTransactions: transactions,
      expectedSpendPerOrder: spend,
      expectedNetRevenue: netRevenue,
      expectedNextOrderAt: Array.from(medianWaitYears, (years) =>
        years <= horizonYears ? new Date(asOf.getTime() + years * DAYS_PER_YEAR * MS_PER_DAY) : null,
      ),
      confidence: new Array<ClvConfidence>(n),
      confidenceReason: new Array<ClvConfidenceReason | null>(n),
    };
    for (let i = 0; i < n; i++) {
      const [confidence, reason] = this.confidenceOf(frequency[i], age[i]);
      prediction.confidence[i] = confidence;
      prediction.confidenceReason[i] = reason;
    }
    return prediction;
  }

  /** The history's columns as the BG/NBD reads them (time in years). */
  private columns(history: ClvHistory): RevenueColumns {
    return {
      frequency: Array.from(history.frequency),
      recencyYears: inYears(history.recency),
      ageYears: inYears(history.age),
      meanRepeatValue: Array.from(history.meanRepeatValue),
      expectedReturnShare: Array.from(history.expectedReturnShare),
    };
  }

  /** Expected net revenue over the horizon of customers [from, to) under the given models. */
  private netRevenue(
    models: { betaGeo: BetaGeoModel; gammaGamma: GammaGammaModel },
    columns: RevenueColumns,
    from: number,
    to: number,
  ): number[] {
    const { betaGeo, gammaGamma } = models;
    const slice = (values: number[]) => values.slice(from, to);
    const [frequency, recency, age, meanValue, returnShare] = [
      columns.frequency,
      columns.recencyYears,
      columns.ageYears,
      columns.meanRepeatValue,
      columns.expectedReturnShare,
    ].map(slice);
    const { monthlyDiscountRate, horizonMonths } = this.options;
    // Without discounting the revenue is the product itself, for any horizon; discounting sums month by month.
    if (monthlyDiscountRate === 0) {
      const transactions = betaGeo.conditionalExpectedTransactions(horizonMonths / MONTHS_PER_YEAR, frequency, recency, age);
      const spend = gammaGamma.conditionalExpectedAverageValue(frequency, meanValue);
      return transactions.map((e, i) => e * spend[i] * (1 - returnShare[i]));
    }
    return gammaGamma.customerLifetimeValue(betaGeo, frequency, recency, age, meanValue, {
      months: horizonMonths,
      timeUnitsPerMonth: 1 / MONTHS_PER_YEAR,
      monthlyDiscountRate,
      expectedReturnShare: returnShare,
    });
  }

  private confidenceOf(frequency: number, age: number): [ClvConfidence, ClvConfidenceReason | null] {
    const o = this.options;
    if (frequency === 0) return ['low', 'single-purchase'];
    if (age < o.coldStartTenureDays) return ['low', 'short-tenure'];
    if (frequency < o.confidentRepeatTransactions) return ['medium', 'few-repeat-purchases'];
    if (age < o.confidentTenureDays) return ['medium', 'short-history'];
    return ['high', null];
  }

  private fitted(): { betaGeo: BetaGeoModel; gammaGamma: GammaGammaModel } {
    if (!this.models) throw new NotFittedError('ProbabilisticClv');
    return this.models;
  }
}
