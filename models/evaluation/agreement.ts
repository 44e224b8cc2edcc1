/** How far two models scoring the same rows agree: the lists they put on top, and the labels they give. */
import { ValidationError } from '../../lib/errors';
import { requireFinite, requireFractions, requireNonEmpty, requireSameLength, type NumberArray } from './inputs';
import { orderDescending, rowsInTop } from './ranking';

/**
 * The share of the top `fraction` of rows by `a` that are also in the top `fraction` by `b` (1: the same list).
 * Ties at the cut are broken by row order, the same way for both.
 */
export function topOverlap(a: NumberArray, b: NumberArray, fraction = 0.1): number {
  requireFractions([fraction], 'fraction');
  requireNonEmpty(a, 'a');
  requireSameLength(a, 'a', b, 'b');
  requireFinite(a, 'a');
  requireFinite(b, 'b');
  const count = rowsInTop(fraction, a.length);
  const top = (values: NumberArray) => orderDescending(values).subarray(0, count);
  const inA = new Set(top(a));
  let both = 0;
  for (const row of top(b)) if (inA.has(row)) both += 1;
  return both / count;
}

/** How many rows have a different label in `a` and `b` (aligned row for row). */
export function changedLabels(a: readonly string[], b: readonly string[]): number {
  if (a.length !== b.length) throw new ValidationError(`b has ${b.length} labels but a has ${a.length}; they must match row for row`, 'b');
  let changed = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed += 1;
  return changed;
}
