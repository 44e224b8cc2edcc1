/**
 * A short human description of a cluster from its centroid z-scores: the strongest deviations from the
 * average customer, in words, e.g. "frequent, high spend, recent".
 */

/** [word when below average, word when above average] for the published feature names. */
const FEATURE_WORDS: Readonly<Record<string, readonly [string, string]>> = {
  recency_days: ['recent', 'lapsed'],
  orders_365d: ['infrequent', 'frequent'],
  spend_365d: ['low spend', 'high spend'],
  discount_share: ['full price', 'discount-driven'],
  tenure_days: ['new', 'long-standing'],
};

/** Half a standard deviation from the mean is where a difference starts to be worth naming. */
const NOTABLE_Z = 0.5;
const MAX_TERMS = 3;

export function describeCentroid(columns: readonly string[], centroid: readonly number[]): string {
  const terms = columns
    .map((column, j) => ({ column, z: centroid[j] }))
    .filter(({ z }) => Math.abs(z) >= NOTABLE_Z)
    .sort((a, b) => Math.abs(b.z) - Math.abs(a.z))
    .slice(0, MAX_TERMS)
    .map(({ column, z }) => {
      const [low, high] = FEATURE_WORDS[column] ?? [`low ${column}`, `high ${column}`];
      return z < 0 ? low : high;
    });
  return terms.length > 0 ? terms.join(', ') : 'typical';
}
