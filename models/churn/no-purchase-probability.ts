/**
 * BG/NBD's answer to the churn question: the probability that a customer makes no purchase in the next H,
 * given their repeat-purchase history (x repeat purchases, the last at t_x, observed for T since the first):
 *
 *   P(X(T, T + H) = 0 | x, t_x, T) = 1 − P(alive) + P(alive) · ((α + T) / (α + T + H))^(r + x)
 *
 * A customer who has dropped out never buys again; one who is alive buys at a rate λ whose posterior given the
 * history is Gamma(r + x, α + T), so the chance of no purchase in H is the Gamma–Poisson zero term above.
 * (The exponent is r + x, the posterior shape: with r alone every history would share one "alive" term.)
 * Time is in any unit, the same for t_x, T, H and α.
 */
import { ModelError, ValidationError } from '../../lib/errors';
import { DAYS_PER_YEAR } from '../../lib/horizons';
import { BetaGeoModel, type BetaGeoParams } from '../clv/bgnbd';
import { DEFAULT_BETA_GEO_PENALIZER } from '../clv/probabilistic-clv';

/** P(alive | x, t_x, T) of Fader, Hardie & Lee (2005): 1 for a customer with no repeat purchase. */
export function probabilityAlive(params: BetaGeoParams, frequency: number, recency: number, age: number): number {
  if (frequency === 0) return 1;
  const { r, alpha, a, b } = params;
  // The odds of having dropped out, in logs so that frequent buyers cannot overflow.
  const lnOddsDropped = Math.log(a / (b + frequency - 1)) + (r + frequency) * (Math.log(alpha + age) - Math.log(alpha + recency));
  return 1 / (1 + Math.exp(lnOddsDropped));
}

export function probabilityNoPurchaseWithin(
  params: BetaGeoParams,
  frequency: number,
  recency: number,
  age: number,
  horizon: number,
): number {
  if (!(horizon > 0)) throw new ValidationError(`horizon must be positive (got ${horizon})`, 'horizon');
  if (!(frequency >= 0 && recency >= 0 && age >= recency)) {
    throw new ValidationError(`not a purchase history: x = ${frequency}, t_x = ${recency}, T = ${age}`, 'history');
  }
  const alive = probabilityAlive(params, frequency, recency, age);
  const { r, alpha } = params;
  const noPurchaseIfAlive = Math.exp((r + frequency) * (Math.log(alpha + age) - Math.log(alpha + age + horizon)));
  return 1 - alive + alive * noPurchaseIfAlive;
}

/** Repeat-purchase histories in days, one entry per customer (features/clv-summary.ts computes them). */
export interface PurchaseHistories {
  frequency: ArrayLike<number>;
  recency: ArrayLike<number>;
  age: ArrayLike<number>;
}

/** BG/NBD is fitted on at most this many customers (an even stride through them): the fit is the costly part. */
const FIT_SAMPLE = 50_000;

/**
 * BG/NBD fitted on the histories (time in days); a ModelError or ValidationError when the fit fails. When the plain
 * maximum-likelihood fit does not converge, it is fitted again as the CLV model fits it, in years with its small
 * penalty: on a shop whose customers all drop out at about one rate, a and b run up the a, b → ∞ ridge where the
 * likelihood is flat and the plain fit stalls, and the BG/NBD baseline would be lost (see DEFAULT_BETA_GEO_PENALIZER).
 */
export function fitBetaGeo(histories: PurchaseHistories): BetaGeoParams {
  const n = histories.frequency.length;
  const stride = Math.max(1, n / FIT_SAMPLE);
  const rows = Array.from({ length: Math.min(n, FIT_SAMPLE) }, (_, i) => Math.floor(i * stride));
  const take = (values: ArrayLike<number>, scale = 1) => rows.map((i) => values[i] / scale);
  const frequency = take(histories.frequency);
  try {
    return new BetaGeoModel().fit(frequency, take(histories.recency), take(histories.age)).params;
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
    const penalised = new BetaGeoModel({ penalizer: DEFAULT_BETA_GEO_PENALIZER });
    const { r, alpha, a, b } = penalised.fit(frequency, take(histories.recency, DAYS_PER_YEAR), take(histories.age, DAYS_PER_YEAR)).params;
    return { r, alpha: alpha * DAYS_PER_YEAR, a, b };
  }
}

/** P(no purchase in the next horizonDays) for every history. */
export function noPurchaseProbabilities(params: BetaGeoParams, histories: PurchaseHistories, horizonDays: number): Float64Array {
  return Float64Array.from({ length: histories.frequency.length }, (_, i) =>
    probabilityNoPurchaseWithin(params, histories.frequency[i], histories.recency[i], histories.age[i], horizonDays),
  );
}
