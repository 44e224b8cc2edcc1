/**
 * Segment migration between two as-of dates: how many customers moved from each segment to each other,
 * and what share of each earlier segment went where. Customers present only at the later date enter from
 * the "(new)" row; customers present only at the earlier date leave to the "(gone)" column.
 */
import { ValidationError } from '../../lib/errors';

export const NEW_CUSTOMERS = '(new)';
export const GONE_CUSTOMERS = '(gone)';

export interface SegmentMigration {
  /** Row labels: segments at the earlier date, then "(new)". */
  from: string[];
  /** Column labels: segments at the later date, then "(gone)". */
  to: string[];
  /** counts[row][column]; the "(new)" → "(gone)" cell is always 0. */
  counts: number[][];
  /** Each row divided by its total, so a row sums to 1; a row with no customers is all 0. */
  shares: number[][];
  /** Distinct customers in either map: the sum of all counts. */
  customers: number;
}

/** How many customers were in segment `before` at the earlier date and `after` at the later (null: absent then). */
export interface SegmentPair {
  before: string | null;
  after: string | null;
  customers: number;
}

/**
 * `segmentOrder` fixes the order (and presence, even when empty) of known segments, e.g. RFM_SEGMENTS, so
 * matrices of different dates line up; other segments follow in alphabetical order.
 */
export function segmentMigration(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
  segmentOrder: readonly string[] = [],
): SegmentMigration {
  return segmentMigrationOfPairs(segmentPairs(before, after), segmentOrder);
}

/** The pairs of two customer → segment maps, counted. */
export function segmentPairs(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): SegmentPair[] {
  // By earlier segment, then later: a lookup per customer, no key built.
  const counts = new Map<string | null, Map<string | null, SegmentPair>>();
  const add = (earlier: string | null, later: string | null) => {
    let row = counts.get(earlier);
    if (!row) counts.set(earlier, (row = new Map()));
    const pair = row.get(later);
    if (pair) pair.customers++;
    else row.set(later, { before: earlier, after: later, customers: 1 });
  };
  for (const [customerId, earlier] of before) add(earlier, after.get(customerId) ?? null);
  for (const [customerId, later] of after) if (!before.has(customerId)) add(null, later);
  return [...counts.values()].flatMap((row) => [...row.values()]);
}

/** The migration matrix from counted pairs (segmentPairs, or a database's count of the same). */
export function segmentMigrationOfPairs(pairs: readonly SegmentPair[], segmentOrder: readonly string[] = []): SegmentMigration {
  const present = new Set(pairs.flatMap((p) => [p.before, p.after]).filter((s): s is string => s !== null));
  for (const reserved of [NEW_CUSTOMERS, GONE_CUSTOMERS]) {
    if (present.has(reserved) || segmentOrder.includes(reserved)) {
      throw new ValidationError(`"${reserved}" is reserved for customers entering or leaving`, 'segment');
    }
  }
  const known = new Set(segmentOrder);
  const segments = [...new Set(segmentOrder), ...[...present].filter((s) => !known.has(s)).sort()];
  const from = [...segments, NEW_CUSTOMERS];
  const to = [...segments, GONE_CUSTOMERS];
  const rowOf = new Map(from.map((label, i) => [label, i]));
  const columnOf = new Map(to.map((label, j) => [label, j]));
  const counts = from.map(() => new Array<number>(to.length).fill(0));
  for (const pair of pairs) {
    if (pair.before === null && pair.after === null) continue;
    counts[rowOf.get(pair.before ?? NEW_CUSTOMERS)!]![columnOf.get(pair.after ?? GONE_CUSTOMERS)!]! += pair.customers;
  }

  const shares = counts.map((row) => {
    const total = row.reduce((sum, n) => sum + n, 0);
    return row.map((n) => (total === 0 ? 0 : n / total));
  });
  const customers = counts.reduce((sum, row) => sum + row.reduce((s, n) => s + n, 0), 0);
  return { from, to, counts, shares, customers };
}
