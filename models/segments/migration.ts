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

/**
 * `segmentOrder` fixes the order (and presence, even when empty) of known segments, e.g. RFM_SEGMENTS, so
 * matrices of different dates line up; other segments follow in alphabetical order.
 */
export function segmentMigration(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
  segmentOrder: readonly string[] = [],
): SegmentMigration {
  const present = new Set([...before.values(), ...after.values()]);
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

  for (const [customerId, earlier] of before) {
    const later = after.get(customerId) ?? GONE_CUSTOMERS;
    counts[rowOf.get(earlier)!][columnOf.get(later)!]++;
  }
  for (const [customerId, later] of after) {
    if (!before.has(customerId)) counts[rowOf.get(NEW_CUSTOMERS)!][columnOf.get(later)!]++;
  }

  const shares = counts.map((row) => {
    const total = row.reduce((sum, n) => sum + n, 0);
    return row.map((n) => (total === 0 ? 0 : n / total));
  });
  const customers = counts.reduce((sum, row) => sum + row.reduce((s, n) => s + n, 0), 0);
  return { from, to, counts, shares, customers };
}
