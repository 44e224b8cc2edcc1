/**
 * Population stability index: how far a distribution has moved from a reference one,
 * PSI = Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over bins, with eᵢ and aᵢ the reference's and the other's shares of rows.
 * By the usual reading, under 0.1 is stable, 0.1–0.25 a moderate shift, over 0.25 a large one.
 */
import { ValidationError } from '../../lib/errors';
import { requireFinite, requireNonEmpty, type NumberArray } from './inputs';

/** A bin no row falls in would make ln(a/e) infinite: shares are floored at this. */
const SHARE_FLOOR = 1e-4;

export interface PsiOptions {
  /** Quantile bins of the reference distribution; default 10. */
  bins?: number;
}

/**
 * A reference distribution as PSI reads it: the inner edges of its quantile bins (a value falls in the first bin whose
 * edge is above it) and how many of its values fall in each bin. Plain numbers, so a run can keep its own with its
 * report and the next run compare with it without reloading the values.
 */
export interface PsiBins {
  edges: number[];
  counts: number[];
}

/**
 * The reference's quantile bins, so each holds about the same share of it. Tied reference values share one bin edge,
 * so a reference with few distinct values gives fewer bins.
 */
export function psiBins(expected: NumberArray, options: PsiOptions = {}): PsiBins {
  const bins = options.bins ?? 10;
  if (!(Number.isSafeInteger(bins) && bins >= 2)) throw new ValidationError(`bins must be a whole number from 2, got ${bins}`, 'bins');
  requireNonEmpty(expected, 'expected');
  requireFinite(expected, 'expected');
  const sorted = Float64Array.from(expected).sort();
  const edges = [...new Set(Array.from({ length: bins - 1 }, (_, k) => sorted[Math.floor(((k + 1) * sorted.length) / bins)]!))];
  return { edges, counts: Array.from(binCounts(edges, expected)) };
}

/** PSI of `actual` against a reference's bins (psiBins). */
export function psiAgainst(reference: PsiBins, actual: NumberArray): number {
  requireNonEmpty(actual, 'actual');
  requireFinite(actual, 'actual');
  return psiOfCounts(reference.counts, binCounts(reference.edges, actual));
}

/** PSI of `actual` against `expected` (the reference: e.g. the champion's scores), over the reference's quantile bins. */
export function psi(expected: NumberArray, actual: NumberArray, options: PsiOptions = {}): number {
  return psiAgainst(psiBins(expected, options), actual);
}

function binCounts(edges: readonly number[], values: NumberArray): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v < edges[mid]!) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]! += 1;
  }
  return counts;
}

/** PSI of two categorical distributions (e.g. segments), given as counts per category. */
export function categoricalPsi(expected: ReadonlyMap<string, number>, actual: ReadonlyMap<string, number>): number {
  const categories = [...new Set([...expected.keys(), ...actual.keys()])];
  if (categories.length === 0) throw new ValidationError('expected and actual are both empty', 'expected');
  return psiOfCounts(
    Float64Array.from(categories, (c) => expected.get(c) ?? 0),
    Float64Array.from(categories, (c) => actual.get(c) ?? 0),
  );
}

function psiOfCounts(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  const total = (counts: ArrayLike<number>) => {
    let sum = 0;
    for (let i = 0; i < counts.length; i++) sum += counts[i]!;
    return sum;
  };
  const [te, ta] = [total(expected), total(actual)];
  if (te === 0) throw new ValidationError('expected has no rows', 'expected');
  if (ta === 0) throw new ValidationError('actual has no rows', 'actual');
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]! / te, SHARE_FLOOR);
    const a = Math.max(actual[i]! / ta, SHARE_FLOOR);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}
