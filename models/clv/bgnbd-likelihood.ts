import { digamma, lnBeta, lnGamma, logAddExp } from './special-functions';
import type { LogLikelihood } from './maximum-likelihood';

/** Repeat-purchase histories, one row per customer (or per group of identical customers, with a weight). */
export interface RepeatPurchaseRows {
  /** x: number of repeat purchases in the calibration period. */
  frequency: readonly number[];
  /** t_x: time of the last repeat purchase, measured from the first purchase. */
  recency: readonly number[];
  /** T: time from the first purchase to the end of the calibration period. */
  age: readonly number[];
  /** How many customers each row stands for. */
  weights: readonly number[];
}

/** Parameter order of the BG/NBD: purchase rate λ ~ Gamma(r, α), dropout probability p ~ Beta(a, b). */
export const BETA_GEO_PARAMETERS = ['r', 'alpha', 'a', 'b'] as const;

/**
 * The BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6) and its analytic gradient:
 *
 *   L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
 *     + δ(x>0) · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))
 *
 * evaluated as ln L = logAddExp(A, B) with A and B the logs of the two terms, so nothing overflows for
 * frequent buyers. Terms that depend on x only (the gamma and beta functions, and their digammas) are
 * computed once per distinct frequency, leaving two logarithms per customer.
 */
export function betaGeoLogLikelihood(rows: RepeatPurchaseRows): LogLikelihood {
  const { frequency, recency, age, weights } = rows;
  const distinctFrequencies = [...new Set(frequency)];
  const maxFrequency = Math.max(0, ...distinctFrequencies);
  // Per-frequency constants, indexed by x.
  const stayConstant = new Float64Array(maxFrequency + 1);
  const dropConstant = new Float64Array(maxFrequency + 1);
  const dRate = new Float64Array(maxFrequency + 1);
  const dStayA = new Float64Array(maxFrequency + 1);
  const dStayB = new Float64Array(maxFrequency + 1);
  const dDropA = new Float64Array(maxFrequency + 1);
  const dDropB = new Float64Array(maxFrequency + 1);

  return (params, gradient) => {
    const [r, alpha, a, b] = params;
    const lnBetaAB = lnBeta(a, b);
    const lnGammaR = lnGamma(r);
    const psiR = digamma(r);
    const psiAB = digamma(a + b);
    const psiB = digamma(b);
    for (const x of distinctFrequencies) {
      const psiABX = digamma(a + b + x);
      const countTerm = lnGamma(r + x) - lnGammaR;
      dRate[x] = digamma(r + x) - psiR;
      // A: alive at T, ln[B(a, b+x)/B(a, b)] + ln[Γ(r+x)/Γ(r)].
      stayConstant[x] = countTerm + lnBeta(a, b + x) - lnBetaAB;
      dStayA[x] = psiAB - psiABX;
      dStayB[x] = digamma(b + x) - psiABX - psiB + psiAB;
      if (x > 0) {
        // B: dropped out right after the last purchase, ln[B(a+1, b+x−1)/B(a, b)] + ln[Γ(r+x)/Γ(r)].
        dropConstant[x] = countTerm + lnBeta(a + 1, b + x - 1) - lnBetaAB;
        dDropA[x] = 1 / a + psiAB - psiABX; // ψ(a+1) − ψ(a) = 1/a
        dDropB[x] = digamma(b + x - 1) - psiABX - psiB + psiAB;
      }
    }

    const lnAlpha = Math.log(alpha);
    let total = 0;
    let gR = 0;
    let gAlpha = 0;
    let gA = 0;
    let gB = 0;
    for (let i = 0; i < frequency.length; i++) {
      const x = frequency[i];
      const w = weights[i];
      const rx = r + x;
      const lnAlphaT = Math.log(alpha + age[i]);
      const stay = stayConstant[x] + r * lnAlpha - rx * lnAlphaT;
      if (x === 0) {
        total += w * stay;
        gR += w * (dRate[0] + lnAlpha - lnAlphaT);
        gAlpha += w * (r / alpha - rx / (alpha + age[i]));
        gA += w * dStayA[0];
        gB += w * dStayB[0];
        continue;
      }
      const lnAlphaTx = Math.log(alpha + recency[i]);
      const drop = dropConstant[x] + r * lnAlpha - rx * lnAlphaTx;
      const ll = logAddExp(stay, drop);
      total += w * ll;
      // ∂ln(e^A + e^B) = (1−s)·∂A + s·∂B with s = e^(B − ln L), the posterior probability of having dropped out.
      const s = Math.exp(drop - ll);
      gR += w * (dRate[x] + lnAlpha - (1 - s) * lnAlphaT - s * lnAlphaTx);
      gAlpha += w * (r / alpha - (1 - s) * (rx / (alpha + age[i])) - s * (rx / (alpha + recency[i])));
      gA += w * ((1 - s) * dStayA[x] + s * dDropA[x]);
      gB += w * ((1 - s) * dStayB[x] + s * dDropB[x]);
    }
    gradient[0] = gR;
    gradient[1] = gAlpha;
    gradient[2] = gA;
    gradient[3] = gB;
    return total;
  };
}
