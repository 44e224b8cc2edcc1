import { NotFittedError, ValidationError } from '../../lib/errors';
import { envelopeFormat, type Envelope, type Estimator } from '../estimator';
import { BETA_GEO_PARAMETERS, betaGeoLogLikelihood } from './bgnbd-likelihood';
import { fitNamedParameters, fitOptionsSchema, fittedStateSchema, resolveFitOptions, type FittedState } from './fitted-state';
import type { MaximumLikelihoodOptions } from './maximum-likelihood';
import { assertDuration, assertHistory, column, mapCustomers, rowWeights, type PerCustomer } from './per-customer';
import { hypergeometric2F1, lnBeta, lnGamma } from './special-functions';

export type BetaGeoParameterName = (typeof BETA_GEO_PARAMETERS)[number];
export type BetaGeoParams = Record<BetaGeoParameterName, number>;
export type BetaGeoOptions = MaximumLikelihoodOptions;

const BETA_GEO_JSON = envelopeFormat('foresight.bgnbd', 1, {
  options: fitOptionsSchema,
  state: fittedStateSchema(BETA_GEO_PARAMETERS),
});

export interface BetaGeoModelJSON extends Envelope<typeof BETA_GEO_JSON.format, typeof BETA_GEO_JSON.version> {
  options: BetaGeoOptions;
  state: FittedState<BetaGeoParameterName>;
}

/**
 * The BG/NBD ("beta-geometric / negative binomial") model of repeat purchasing, Fader, Hardie & Lee (2005),
 * "Counting Your Customers the Easy Way", Marketing Science 24(2). While alive a customer buys at rate
 * λ ~ Gamma(r, α); after each purchase they drop out with probability p ~ Beta(a, b).
 *
 * Estimator contract: options in the constructor, `fit` learns the parameters, predictions need a fit
 * (or `fromParams`), and `toJSON`/`fromJSON` round-trip the learned state. Time is in whatever unit the
 * histories were given in (CDNOW: weeks), and every horizon `t` is in that unit too.
 *
 * The expectations divide by a − 1: they are continuous at a = 1 but lose precision within ~1e-8 of it.
 */
export class BetaGeoModel implements Estimator<
  [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>?],
  BetaGeoModelJSON
> {
  readonly options: BetaGeoOptions;
  private state: FittedState<BetaGeoParameterName> | undefined;

  constructor(options: Partial<BetaGeoOptions> = {}) {
    this.options = resolveFitOptions(options);
  }

  /** A model with known parameters (e.g. published estimates), without fitting. */
  static fromParams(params: BetaGeoParams): BetaGeoModel {
    return BetaGeoModel.fromJSON(
      BETA_GEO_JSON.wrap({
        options: resolveFitOptions({}),
        state: { params, standardErrors: null, covariance: null, convergence: null, customers: 0 },
      }),
    );
  }

  static fromJSON(json: unknown): BetaGeoModel {
    const parsed = BETA_GEO_JSON.parse(json);
    const model = new BetaGeoModel(parsed.options);
    model.state = parsed.state;
    return model;
  }

  toJSON(): BetaGeoModelJSON {
    return BETA_GEO_JSON.wrap({ options: { ...this.options }, state: structuredClone(this.fitted()) });
  }

  /**
   * Maximum-likelihood fit on repeat-purchase histories: frequency x, recency t_x and age T per customer,
   * with optional weights when each row stands for several identical customers.
   */
  fit(frequency: ArrayLike<number>, recency: ArrayLike<number>, age: ArrayLike<number>, weights?: ArrayLike<number>): this {
    const n = frequency.length;
    if (n === 0) throw new ValidationError('cannot fit on zero customers', 'frequency');
    const rows = {
      frequency: column(frequency, 'frequency', n),
      recency: column(recency, 'recency', n),
      age: column(age, 'age', n),
      weights: rowWeights(weights, n),
    };
    rows.frequency.forEach((x, i) => assertHistory(x, rows.recency[i], rows.age[i], i));
    const totalWeight = rows.weights.reduce((sum, w) => sum + w, 0);
    // Scale-free start: r = a = b = 1 and α at a tenth of the oldest age (where lifetimes starts, after it
    // rescales time so that the oldest customer is 10 units old).
    const oldest = rows.age.reduce((max, T) => Math.max(max, T), 0);
    const initial: BetaGeoParams = { r: 1, alpha: oldest > 0 ? oldest / 10 : 1, a: 1, b: 1 };
    this.state = fitNamedParameters('BG/NBD', BETA_GEO_PARAMETERS, betaGeoLogLikelihood(rows), initial, totalWeight, this.options);
    return this;
  }

  get params(): BetaGeoParams {
    return { ...this.fitted().params };
  }

  /** Standard errors, covariance and convergence of the fit. */
  get fitState(): FittedState<BetaGeoParameterName> {
    return structuredClone(this.fitted());
  }

  /** E[X(t)]: expected repeat purchases in (0, t] of a customer who just made a first purchase (FHL 2005 eq. 9). */
  expectedTransactions(t: number): number;
  expectedTransactions(t: PerCustomer): number[];
  expectedTransactions(t: PerCustomer): number | number[] {
    const { r, alpha, a, b } = this.fitted().params;
    return mapCustomers({ t }, (v) => {
      assertDuration(v.t, 't');
      // (a+b−1)/(a−1)·[1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))], with the ₂F₁ moved by Euler's
      // transformation (A&S 15.3.3) so that (α/(α+t))^r ₂F₁(…) = (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b−1; z).
      const z = v.t / (alpha + v.t);
      return ((a + b - 1) / (a - 1)) * (1 - Math.pow(1 - z, a - 1) * hypergeometric2F1(a + b - 1 - r, a - 1, a + b - 1, z));
    });
  }

  /**
   * E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] of a customer with history (x, t_x, T)
   * (FHL 2005 eq. 10).
   */
  conditionalExpectedTransactions(t: number, frequency: number, recency: number, age: number): number;
  conditionalExpectedTransactions(t: PerCustomer, frequency: PerCustomer, recency: PerCustomer, age: PerCustomer): number[];
  conditionalExpectedTransactions(t: PerCustomer, frequency: PerCustomer, recency: PerCustomer, age: PerCustomer): number | number[] {
    const { params } = this.fitted();
    return mapCustomers({ t, frequency, recency, age }, (v, i) => {
      assertDuration(v.t, 't');
      assertHistory(v.frequency, v.recency, v.age, i);
      return conditionalExpectedTransactionsOf(params, v.t, v.frequency, v.recency, v.age);
    });
  }

  /** P(alive | x, t_x, T) (Fader, Hardie & Lee 2008, note "Computing P(alive) Using the BG/NBD Model"). */
  probabilityAlive(frequency: number, recency: number, age: number): number;
  probabilityAlive(frequency: PerCustomer, recency: PerCustomer, age: PerCustomer): number[];
  probabilityAlive(frequency: PerCustomer, recency: PerCustomer, age: PerCustomer): number | number[] {
    this.fitted();
    return mapCustomers({ frequency, recency, age }, (v, i) => {
      assertHistory(v.frequency, v.recency, v.age, i);
      return this.aliveProbability(v.frequency, v.recency, v.age);
    });
  }

  /** P(X(t) = n): probability of exactly n repeat purchases in (0, t] after a first purchase (FHL 2005 eq. 8). */
  probabilityOfNPurchases(t: number, n: number): number;
  probabilityOfNPurchases(t: PerCustomer, n: PerCustomer): number[];
  probabilityOfNPurchases(t: PerCustomer, n: PerCustomer): number | number[] {
    const { r, alpha, a, b } = this.fitted().params;
    return mapCustomers({ t, n }, (v) => {
      assertDuration(v.t, 't');
      if (!(Number.isInteger(v.n) && v.n >= 0)) throw new ValidationError(`n must be a non-negative integer, got ${v.n}`, 'n');
      if (v.t === 0) return v.n === 0 ? 1 : 0;
      const x = v.n;
      const lnBetaAB = lnBeta(a, b);
      const p0 = alpha / (alpha + v.t); // Poisson–gamma mixture: X(t) | alive ~ NBD(r, α/(α+t))
      const lnNbd = lnGamma(r + x) - lnGamma(r) - lnGamma(x + 1) + r * Math.log(p0) + x * Math.log(1 - p0);
      const aliveThroughout = Math.exp(lnBeta(a, b + x) - lnBetaAB + lnNbd);
      if (x === 0) return aliveThroughout;
      // Dropped out after the x-th purchase: B(a+1, b+x−1)/B(a, b) · P(NBD >= x). The NBD tail is
      // 1 − Σ_{j<x} pmf(j); the absolute error ~1e-16 is negligible next to the first term.
      let pmf = Math.pow(p0, r);
      let cdf = 0;
      for (let j = 0; j < x; j++) {
        cdf += pmf;
        pmf *= ((r + j) / (j + 1)) * (1 - p0);
      }
      return aliveThroughout + Math.exp(lnBeta(a + 1, b + x - 1) - lnBetaAB) * Math.max(0, 1 - cdf);
    });
  }

  /**
   * P(at least one purchase in (T, T+t] | x, t_x, T) = P(alive) · [1 − ((α+T)/(α+T+t))^(r+x)].
   * Given alive, λ | history ~ Gamma(r+x, α+T) and the wait to the next purchase is exponential in λ,
   * so it is Lomax-distributed; a dropout never buys again.
   */
  probabilityOfPurchaseWithin(t: number, frequency: number, recency: number, age: number): number;
  probabilityOfPurchaseWithin(t: PerCustomer, frequency: PerCustomer, recency: PerCustomer, age: PerCustomer): number[];
  probabilityOfPurchaseWithin(t: PerCustomer, frequency: PerCustomer, recency: PerCustomer, age: PerCustomer): number | number[] {
    const { r, alpha } = this.fitted().params;
    return mapCustomers({ t, frequency, recency, age }, (v, i) => {
      assertDuration(v.t, 't');
      assertHistory(v.frequency, v.recency, v.age, i);
      const noPurchaseIfAlive = Math.pow((alpha + v.age) / (alpha + v.age + v.t), r + v.frequency);
      return this.aliveProbability(v.frequency, v.recency, v.age) * (1 - noPurchaseIfAlive);
    });
  }

  /**
   * Median time from T to the next purchase, counting a dropout as never purchasing: the w solving
   * probabilityOfPurchaseWithin(w) = 1/2. Infinity when P(alive) <= 1/2. We report the median rather
   * than the mean because the mean wait given alive, (α+T)/(r+x−1), is infinite whenever r + x <= 1
   * (every one-time buyer at CDNOW's r ≈ 0.24). Add it to the calibration end to get a next-order date.
   */
  medianTimeToNextPurchase(frequency: number, recency: number, age: number): number;
  medianTimeToNextPurchase(frequency: PerCustomer, recency: PerCustomer, age: PerCustomer): number[];
  medianTimeToNextPurchase(frequency: PerCustomer, recency: PerCustomer, age: PerCustomer): number | number[] {
    const { params } = this.fitted();
    return mapCustomers({ frequency, recency, age }, (v, i) => {
      assertHistory(v.frequency, v.recency, v.age, i);
      return medianTimeToNextPurchaseOf(params, v.frequency, v.age, this.aliveProbability(v.frequency, v.recency, v.age));
    });
  }

  private aliveProbability(x: number, recency: number, age: number): number {
    return aliveProbabilityOf(this.fitted().params, x, recency, age);
  }

  private fitted(): FittedState<BetaGeoParameterName> {
    if (!this.state) throw new NotFittedError('BetaGeoModel');
    return this.state;
  }
}

/**
 * E[Y(t) | x, t_x, T] for one customer whose history is already checked (assertHistory): the formula of
 * conditionalExpectedTransactions, callable in a loop over customers and parameter draws without per-call checks.
 */
export function conditionalExpectedTransactionsOf(params: BetaGeoParams, t: number, x: number, recency: number, age: number): number {
  const { r, alpha, a, b } = params;
  // (a+b+x−1)/(a−1)·[1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)] · P(alive), z = t/(α+T+t);
  // Euler's transformation turns the bracketed product into (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z),
  // whose terms stay O(1) however large x is.
  const z = t / (alpha + age + t);
  const hyper = Math.pow(1 - z, a - 1) * hypergeometric2F1(a + b - 1 - r, a - 1, a + b + x - 1, z);
  return ((a + b + x - 1) / (a - 1)) * (1 - hyper) * aliveProbabilityOf(params, x, recency, age);
}

/** P(alive | x, t_x, T) for one checked history. */
export function aliveProbabilityOf(params: BetaGeoParams, x: number, recency: number, age: number): number {
  if (x === 0) return 1;
  const { r, alpha, a, b } = params;
  // 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)), with the odds in logs so frequent buyers cannot overflow.
  const lnOddsDropped = Math.log(a / (b + x - 1)) + (r + x) * (Math.log(alpha + age) - Math.log(alpha + recency));
  return 1 / (1 + Math.exp(lnOddsDropped));
}

/** medianTimeToNextPurchase for one checked history whose P(alive) is `alive`. */
export function medianTimeToNextPurchaseOf(params: BetaGeoParams, x: number, age: number, alive: number): number {
  if (alive <= 0.5) return Infinity;
  const { r, alpha } = params;
  // Solve P(alive)·[1 − ((α+T)/(α+T+w))^(r+x)] = 1/2 for w.
  return (alpha + age) * (Math.pow(1 - 0.5 / alive, -1 / (r + x)) - 1);
}
