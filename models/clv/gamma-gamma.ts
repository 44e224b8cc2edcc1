import { ModelError, NotFittedError, ValidationError } from '../../lib/errors';
import { envelopeFormat, type Envelope, type Estimator } from '../estimator';
import { fitNamedParameters, fitOptionsSchema, fittedStateSchema, resolveFitOptions, type FittedState } from './fitted-state';
import { GAMMA_GAMMA_PARAMETERS, gammaGammaLogLikelihood } from './gamma-gamma-likelihood';
import type { MaximumLikelihoodOptions } from './maximum-likelihood';
import { assertHistory, broadcast, column, mapCustomers, rowWeights, type PerCustomer } from './per-customer';

export type GammaGammaParameterName = (typeof GAMMA_GAMMA_PARAMETERS)[number];
export type GammaGammaParams = Record<GammaGammaParameterName, number>;
export type GammaGammaOptions = MaximumLikelihoodOptions;

const GAMMA_GAMMA_JSON = envelopeFormat('foresight.gamma-gamma', 1, {
  options: fitOptionsSchema,
  state: fittedStateSchema(GAMMA_GAMMA_PARAMETERS),
});

export interface GammaGammaModelJSON extends Envelope<typeof GAMMA_GAMMA_JSON.format, typeof GAMMA_GAMMA_JSON.version> {
  options: GammaGammaOptions;
  state: FittedState<GammaGammaParameterName>;
}

/** Any model that forecasts purchases in (T, T+t] from a history (x, t_x, T), such as BetaGeoModel. */
export interface TransactionForecaster {
  conditionalExpectedTransactions(t: PerCustomer, frequency: PerCustomer, recency: PerCustomer, age: PerCustomer): number[];
}

export interface LifetimeValueOptions {
  /** Horizon in months. */
  months: number;
  /**
   * Length of a month in the forecaster's time unit: 52/12 for weeks, 365.25/12 for days. No default,
   * because lifetimes' default (freq='D', 30 units a month) silently turns a weekly model's "12 months"
   * into 360 weeks.
   */
  timeUnitsPerMonth: number;
  /** Monthly discount rate d: month m's revenue is divided by (1 + d)^m. Default 0. */
  monthlyDiscountRate?: number;
  /** Expected share of spend returned or refunded, per customer or for all; revenue is scaled by (1 − share). Default 0. */
  expectedReturnShare?: PerCustomer;
}

/**
 * The Gamma-Gamma model of spend per transaction (Colombo & Jiang 1999; Fader, Hardie & Lee 2005 "RFM
 * and CLV", JMR 42; Fader & Hardie 2013 note 025): a customer's transaction values are Gamma(p, ν) with
 * ν ~ Gamma(q, v) across customers, independent of their purchase frequency. Fitted on repeat buyers.
 */
export class GammaGammaModel implements Estimator<[ArrayLike<number>, ArrayLike<number>, ArrayLike<number>?], GammaGammaModelJSON> {
  readonly options: GammaGammaOptions;
  private state: FittedState<GammaGammaParameterName> | undefined;

  constructor(options: Partial<GammaGammaOptions> = {}) {
    this.options = resolveFitOptions(options);
  }

  /** A model with known parameters (e.g. published estimates), without fitting. */
  static fromParams(params: GammaGammaParams): GammaGammaModel {
    return GammaGammaModel.fromJSON(
      GAMMA_GAMMA_JSON.wrap({
        options: resolveFitOptions({}),
        state: { params, standardErrors: null, covariance: null, convergence: null, customers: 0 },
      }),
    );
  }

  static fromJSON(json: unknown): GammaGammaModel {
    const parsed = GAMMA_GAMMA_JSON.parse(json);
    const model = new GammaGammaModel(parsed.options);
    model.state = parsed.state;
    return model;
  }

  toJSON(): GammaGammaModelJSON {
    return GAMMA_GAMMA_JSON.wrap({ options: { ...this.options }, state: structuredClone(this.fitted()) });
  }

  /** Maximum-likelihood fit on repeat buyers: frequency x >= 1 and mean repeat-transaction value z̄ > 0. */
  fit(frequency: ArrayLike<number>, meanValue: ArrayLike<number>, weights?: ArrayLike<number>): this {
    const n = frequency.length;
    if (n === 0) throw new ValidationError('cannot fit on zero customers', 'frequency');
    const rows = {
      frequency: column(frequency, 'frequency', n),
      meanValue: column(meanValue, 'meanValue', n),
      weights: rowWeights(weights, n),
    };
    rows.frequency.forEach((x, i) => {
      if (!(Number.isInteger(x) && x >= 1)) {
        throw new ValidationError(`fit on repeat buyers only: frequency must be an integer >= 1, got ${x} (row ${i})`, 'frequency');
      }
      const m = rows.meanValue[i];
      if (!(Number.isFinite(m) && m > 0)) throw new ValidationError(`meanValue must be positive, got ${m} (row ${i})`, 'meanValue');
    });
    const totalWeight = rows.weights.reduce((sum, w) => sum + w, 0);
    const averageSpend = rows.meanValue.reduce((sum, m, i) => sum + m * rows.weights[i], 0) / totalWeight;
    // v carries the money unit, so start it at the average spend; p = q = 1 are unit-free.
    const initial: GammaGammaParams = { p: 1, q: 1, v: averageSpend };
    this.state = fitNamedParameters(
      'Gamma-Gamma',
      GAMMA_GAMMA_PARAMETERS,
      gammaGammaLogLikelihood(rows),
      initial,
      totalWeight,
      this.options,
    );
    return this;
  }

  get params(): GammaGammaParams {
    return { ...this.fitted().params };
  }

  /** Standard errors, covariance and convergence of the fit. */
  get fitState(): FittedState<GammaGammaParameterName> {
    return structuredClone(this.fitted());
  }

  /**
   * E[spend per transaction | x, z̄] = p(v + x z̄)/(px + q − 1) (note 025 eq. 5): a weighted average of
   * the population mean pv/(q−1) and the customer's own z̄, the weight on z̄ growing with x. For x = 0
   * it is the population mean (pass any z̄, e.g. 0).
   */
  conditionalExpectedAverageValue(frequency: number, meanValue: number): number;
  conditionalExpectedAverageValue(frequency: PerCustomer, meanValue: PerCustomer): number[];
  conditionalExpectedAverageValue(frequency: PerCustomer, meanValue: PerCustomer): number | number[] {
    const { params } = this.fitted();
    return mapCustomers({ frequency, meanValue }, (c, i) => {
      if (!(Number.isInteger(c.frequency) && c.frequency >= 0)) {
        throw new ValidationError(`frequency must be a non-negative integer, got ${c.frequency} (customer ${i})`, 'frequency');
      }
      if (!(c.meanValue >= 0)) throw new ValidationError(`meanValue must be >= 0, got ${c.meanValue} (customer ${i})`, 'meanValue');
      return conditionalExpectedAverageValueOf(params, c.frequency, c.meanValue);
    });
  }

  /**
   * Expected discounted net revenue over the next `months` months (FHL 2005 "RFM and CLV", with the
   * discrete monthly discounting of lifetimes' customer_lifetime_value): Σ_m E[spend] · (1 − returnShare)
   * · (E[Y(m·k)] − E[Y((m−1)·k)]) / (1 + d)^m, with E[Y(t)] the forecaster's conditional expected purchases
   * and k = timeUnitsPerMonth.
   */
  customerLifetimeValue(
    forecaster: TransactionForecaster,
    frequency: number,
    recency: number,
    age: number,
    meanValue: number,
    options: LifetimeValueOptions,
  ): number;
  customerLifetimeValue(
    forecaster: TransactionForecaster,
    frequency: PerCustomer,
    recency: PerCustomer,
    age: PerCustomer,
    meanValue: PerCustomer,
    options: LifetimeValueOptions,
  ): number[];
  customerLifetimeValue(
    forecaster: TransactionForecaster,
    frequency: PerCustomer,
    recency: PerCustomer,
    age: PerCustomer,
    meanValue: PerCustomer,
    options: LifetimeValueOptions,
  ): number | number[] {
    const { months, timeUnitsPerMonth, monthlyDiscountRate = 0, expectedReturnShare = 0 } = options;
    if (!(Number.isInteger(months) && months >= 0)) {
      throw new ValidationError(`months must be a non-negative integer, got ${months}`, 'months');
    }
    if (!(timeUnitsPerMonth > 0)) {
      throw new ValidationError(`timeUnitsPerMonth must be positive, got ${timeUnitsPerMonth}`, 'timeUnitsPerMonth');
    }
    if (!(monthlyDiscountRate > -1)) {
      throw new ValidationError(`monthlyDiscountRate must exceed -1, got ${monthlyDiscountRate}`, 'monthlyDiscountRate');
    }
    const { columns, length, scalar } = broadcast({ frequency, recency, age, meanValue, expectedReturnShare });
    columns.frequency.forEach((x, i) => assertHistory(x, columns.recency[i], columns.age[i], i));
    columns.expectedReturnShare.forEach((share, i) => {
      if (!(share >= 0 && share <= 1)) {
        throw new ValidationError(`expectedReturnShare must lie in [0, 1], got ${share} (customer ${i})`, 'expectedReturnShare');
      }
    });
    const spend = this.conditionalExpectedAverageValue(columns.frequency, columns.meanValue);
    const discountedPurchases = new Array<number>(length).fill(0);
    let previous = new Array<number>(length).fill(0);
    for (let m = 1; m <= months; m++) {
      // Cumulative forecasts, differenced into month m's purchases.
      const cumulative = forecaster.conditionalExpectedTransactions(m * timeUnitsPerMonth, columns.frequency, columns.recency, columns.age);
      const discount = Math.pow(1 + monthlyDiscountRate, m);
      cumulative.forEach((e, i) => (discountedPurchases[i] += (e - previous[i]) / discount));
      previous = cumulative;
    }
    const values = spend.map((s, i) => s * (1 - columns.expectedReturnShare[i]) * discountedPurchases[i]);
    return scalar ? values[0] : values;
  }

  private fitted(): FittedState<GammaGammaParameterName> {
    if (!this.state) throw new NotFittedError('GammaGammaModel');
    return this.state;
  }
}

/** E[spend per transaction | x, z̄] for one customer whose x and z̄ are already checked, without per-call checks. */
export function conditionalExpectedAverageValueOf(params: GammaGammaParams, frequency: number, meanValue: number): number {
  const { p, q, v } = params;
  const denominator = p * frequency + q - 1;
  // Only reachable for x = 0 with q <= 1, where the population mean spend has no finite value.
  if (!(denominator > 0)) throw new ModelError(`population mean spend p·v/(q−1) is undefined for q = ${q} <= 1`);
  return (p * (v + frequency * meanValue)) / denominator;
}
