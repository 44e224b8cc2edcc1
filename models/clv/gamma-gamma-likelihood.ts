import { digamma, lnGamma } from './special-functions';
import type { LogLikelihood } from './maximum-likelihood';

/** Repeat buyers' spend: x >= 1 repeat purchases with mean value z̄ > 0, one row per customer (or weighted group). */
export interface SpendRows {
  frequency: readonly number[];
  meanValue: readonly number[];
  weights: readonly number[];
}

/** Parameter order of the Gamma-Gamma model: spend per transaction ~ Gamma(p, ν), ν ~ Gamma(q, v). */
export const GAMMA_GAMMA_PARAMETERS = ['p', 'q', 'v'] as const;

/**
 * The Gamma-Gamma log-likelihood (Fader & Hardie 2013, note 025 "The Gamma-Gamma Model of Monetary
 * Value", eq. 1a, with the density of z̄ = mean of x values) and its analytic gradient:
 *
 *   ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln z̄ + px ln x − (px+q) ln(v + x z̄)
 *
 * Gamma functions depend on x only, so they are computed once per distinct frequency.
 */
export function gammaGammaLogLikelihood(rows: SpendRows): LogLikelihood {
  const { frequency, meanValue, weights } = rows;
  const lnMeanValue = meanValue.map(Math.log);
  const lnFrequency = frequency.map(Math.log);
  const distinctFrequencies = [...new Set(frequency)];
  const maxFrequency = distinctFrequencies.reduce((max, x) => Math.max(max, x), 0);
  const lnGammaRatio = new Float64Array(maxFrequency + 1);
  const psiShapeTotal = new Float64Array(maxFrequency + 1);
  const psiShape = new Float64Array(maxFrequency + 1);

  return (params, gradient) => {
    const [p, q, v] = params;
    const lnGammaQ = lnGamma(q);
    const psiQ = digamma(q);
    const lnV = Math.log(v);
    for (const x of distinctFrequencies) {
      lnGammaRatio[x] = lnGamma(p * x + q) - lnGamma(p * x);
      psiShapeTotal[x] = digamma(p * x + q);
      psiShape[x] = digamma(p * x);
    }
    let total = 0;
    let gP = 0;
    let gQ = 0;
    let gV = 0;
    for (let i = 0; i < frequency.length; i++) {
      const x = frequency[i];
      const w = weights[i];
      const px = p * x;
      const scaleTotal = v + x * meanValue[i];
      const lnScaleTotal = Math.log(scaleTotal);
      total += w * (lnGammaRatio[x] - lnGammaQ + q * lnV + (px - 1) * lnMeanValue[i] + px * lnFrequency[i] - (px + q) * lnScaleTotal);
      gP += w * x * (psiShapeTotal[x] - psiShape[x] + lnMeanValue[i] + lnFrequency[i] - lnScaleTotal);
      gQ += w * (psiShapeTotal[x] - psiQ + lnV - lnScaleTotal);
      gV += w * (q / v - (px + q) / scaleTotal);
    }
    gradient[0] = gP;
    gradient[1] = gQ;
    gradient[2] = gV;
    return total;
  };
}
