import { mulberry32 } from '../../lib/random';
import type { FeatureMatrix } from '../../features/types';

/**
 * Synthetic customers for the segment and embedding tests: six behavioural groups a person would name, drawn from a
 * seeded generator, so the same seed gives the same matrix on every run.
 */

/** The behavioural columns, in the order of a group's draw. */
export const FEATURES = ['recency_days', 'orders_365d', 'spend_365d', 'discount_share', 'tenure_days'];
export const CATEGORIES = ['category_share_fashion', 'category_share_home', 'category_share_beauty', 'category_share_toys'];

export type Random = () => number;
export const uniform = (random: Random, lo: number, hi: number) => lo + (hi - lo) * random();
export const normal = (random: Random, mean: number, sd: number) =>
  mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const count = (random: Random, mean: number, sd: number) => Math.max(1, Math.round(normal(random, mean, sd)));
const money = (random: Random, median: number, logSd: number) => median * Math.exp(normal(random, 0, logSd));
const share = (random: Random, mean: number, sd: number) => Math.min(1, Math.max(0, normal(random, mean, sd)));

/** Six behavioural groups, each with a favourite category: [recency, orders, spend, discount, tenure] + mix. */
export const GROUPS: Record<string, { draw: (random: Random) => number[]; favourite: number }> = {
  champions: {
    draw: (r) => [Math.round(uniform(r, 1, 20)), count(r, 20, 3), money(r, 3000, 0.25), share(r, 0.05, 0.03), normal(r, 1200, 150)],
    favourite: 0,
  },
  slipping: {
    draw: (r) => [Math.round(uniform(r, 250, 365)), count(r, 12, 2), money(r, 2000, 0.25), share(r, 0.1, 0.03), normal(r, 1500, 150)],
    favourite: 1,
  },
  lost: { draw: (r) => [Math.round(uniform(r, 250, 365)), 1, money(r, 30, 0.3), share(r, 0.1, 0.05), normal(r, 400, 100)], favourite: 2 },
  newcomers: { draw: (r) => [Math.round(uniform(r, 1, 25)), 1, money(r, 60, 0.3), share(r, 0.15, 0.05), uniform(r, 1, 30)], favourite: 3 },
  bargainers: {
    draw: (r) => [Math.round(uniform(r, 30, 120)), count(r, 6, 1.5), money(r, 300, 0.3), share(r, 0.6, 0.08), normal(r, 700, 150)],
    favourite: 2,
  },
  steady: {
    draw: (r) => [Math.round(uniform(r, 30, 120)), count(r, 5, 1.5), money(r, 400, 0.3), share(r, 0.05, 0.03), normal(r, 900, 150)],
    favourite: 0,
  },
};

export interface Synthetic {
  matrix: FeatureMatrix;
  groupOf: Map<string, string>;
}

export interface SyntheticOptions {
  /** Customers drawn from each group. */
  perGroup: number;
  /** Append the four category shares, leaning to the group's favourite category. */
  categoryMix?: boolean;
  /** Chance that a customer's discount share, and separately their tenure, is missing (NaN). */
  missingRate?: number;
}

/** `perGroup` customers of each group, shuffled; ids are `<group>-<i>`. */
export function syntheticCustomers(seed: number, { perGroup, categoryMix = false, missingRate = 0 }: SyntheticOptions): Synthetic {
  const random = mulberry32(seed);
  const rows: { id: string; group: string; values: number[] }[] = [];
  for (const [group, { draw, favourite }] of Object.entries(GROUPS)) {
    for (let i = 0; i < perGroup; i++) {
      const values = draw(random);
      if (categoryMix) {
        const weights = CATEGORIES.map((_, c) => (c === favourite ? 3 : 1) * uniform(random, 0.5, 1.5));
        const total = weights.reduce((a, b) => a + b, 0);
        values.push(...weights.map((w) => w / total));
      }
      rows.push({ id: `${group}-${i}`, group, values });
    }
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  if (missingRate > 0) {
    for (const row of rows) {
      if (random() < missingRate) row.values[3] = NaN;
      if (random() < missingRate) row.values[4] = NaN;
    }
  }
  const featureNames = categoryMix ? [...FEATURES, ...CATEGORIES] : [...FEATURES];
  return { matrix: toMatrix(rows, featureNames), groupOf: new Map(rows.map((row) => [row.id, row.group])) };
}

/** A feature matrix of the given rows, in order; the columns are the behavioural ones unless named. */
export function toMatrix(rows: { id: string; values: number[] }[], featureNames: string[] = [...FEATURES]): FeatureMatrix {
  return {
    customerIds: rows.map((row) => row.id),
    featureNames,
    X: Float32Array.from(rows.flatMap((row) => row.values)),
    nrow: rows.length,
    ncol: featureNames.length,
  };
}
