/**
 * Quintile cut points learned once in fit and then applied to any customer, so a score does not move
 * because other customers were scored alongside it.
 *
 * Ties: a group of equal values is never split (the same value always gets the same score). Each cut is
 * placed at the edge of the tie group nearest the ideal 20/40/60/80% position, halfway between the last
 * value below and the first value above, so a value is scored by which side of the midpoint it falls.
 * With heavily tied data (order counts) the bins are therefore only as balanced as the ties allow.
 */
import { ValidationError } from '../../lib/errors';

const QUINTILES = 5;

export function learnQuintileCuts(values: Float32Array, column: string): number[] {
  const sorted = Float64Array.from(values.filter((v) => !Number.isNaN(v))).sort();
  const n = sorted.length;
  if (n === 0) throw new ValidationError(`column "${column}" has no non-missing values to learn quintiles from`, column);
  const cuts: number[] = [];
  for (let k = 1; k < QUINTILES; k++) {
    const boundary = nearestTieEdge(sorted, (k * n) / QUINTILES);
    // No edge exists only when every value is equal: everyone then falls in the lowest bin.
    cuts.push(boundary === undefined ? sorted[0] : (sorted[boundary - 1] + sorted[boundary]) / 2);
  }
  return cuts;
}

/** 1 (lowest fifth) to 5 (highest fifth); NaN counts as lowest. */
export function quintileScore(value: number, cuts: readonly number[]): number {
  if (Number.isNaN(value)) return 1;
  let score = 1;
  for (const cut of cuts) if (value > cut) score++;
  return score;
}

/** 5 (lowest fifth) to 1 (highest fifth), for columns where less is better (days since last order); NaN scores 1. */
export function reversedQuintileScore(value: number, cuts: readonly number[]): number {
  if (Number.isNaN(value)) return 1;
  return QUINTILES + 1 - quintileScore(value, cuts);
}

/**
 * The boundary position p (values [0, p) below, [p, n) above) nearest `target` that does not split a tie
 * group, with 0 < p < n; undefined when all values are equal. Equidistant edges resolve to the lower one.
 */
function nearestTieEdge(sorted: Float64Array, target: number): number | undefined {
  const n = sorted.length;
  if (n < 2 || sorted[0] === sorted[n - 1]) return undefined;
  const position = Math.min(n - 1, Math.max(1, Math.round(target)));
  if (sorted[position - 1] < sorted[position]) return position;
  const tied = sorted[position];
  const start = lowerBound(sorted, tied);
  const end = upperBound(sorted, tied);
  if (start === 0) return end;
  if (end === n) return start;
  return Math.abs(start - target) <= Math.abs(end - target) ? start : end;
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
