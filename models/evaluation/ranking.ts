/**
 * Sorting rows by a score, shared by the rank-based metrics. Each ranking costs one O(n log n) sort,
 * and every pass after that is linear: a million rows take about a second.
 */
import type { NumberArray } from './inputs';
import { CompensatedSum } from './sum';

/** Row indices by value, highest first. Callers must have checked that no value is NaN. */
export function orderDescending(values: NumberArray): Uint32Array {
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => values[b] - values[a]);
}

/** The position just past the run of rows, starting at `start` in `order`, that share one value. */
export function tieGroupEnd(values: NumberArray, order: Uint32Array, start: number): number {
  const value = values[order[start]];
  let end = start + 1;
  while (end < order.length && values[order[end]] === value) end++;
  return end;
}

/** 1-based ranks, lowest value first; tied values share the mean of the ranks they span (scipy's 'average'). */
export function averageRanks(values: NumberArray): Float64Array {
  const ascending = orderDescending(values).reverse();
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < ascending.length;) {
    const end = tieGroupEnd(values, ascending, start);
    const rank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) ranks[ascending[i]] = rank;
    start = end;
  }
  return ranks;
}

/** How many rows "the top `fraction`" means: rounded to the nearest row, and never none. */
export function rowsInTop(fraction: number, rows: number): number {
  return Math.max(1, Math.round(fraction * rows));
}

/**
 * The sum of `amount(row)` over the `count` highest-scored rows. A tie group that straddles the cut
 * counts in proportion to how many of its rows fit: that is the expected sum under random tie-breaking,
 * and it makes the result independent of the input's row order.
 */
export function sumOverTop(scores: NumberArray, order: Uint32Array, count: number, amount: (row: number) => number): number {
  const sum = new CompensatedSum();
  for (let start = 0; start < count;) {
    const end = tieGroupEnd(scores, order, start);
    const share = Math.min(end, count) - start;
    if (share === end - start) {
      for (let i = start; i < end; i++) sum.add(amount(order[i]));
    } else {
      const group = new CompensatedSum();
      for (let i = start; i < end; i++) group.add(amount(order[i]));
      sum.add((group.value * share) / (end - start));
    }
    start = end;
  }
  return sum.value;
}
