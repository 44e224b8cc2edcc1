import { ValidationError } from '../../lib/errors';

/** One value per customer, or a single value shared by every customer. */
export type PerCustomer = number | ArrayLike<number>;

/** Per-customer arguments expanded to equal-length arrays; `scalar` when every argument was a single number. */
export interface Broadcast<Name extends string> {
  columns: Record<Name, number[]>;
  length: number;
  scalar: boolean;
}

/** Expands scalars to the length of the array arguments, which must all have the same length. */
export function broadcast<Name extends string>(args: Record<Name, PerCustomer>): Broadcast<Name> {
  const names = Object.keys(args) as Name[];
  let length: number | undefined;
  for (const name of names) {
    const arg = args[name];
    if (typeof arg === 'number') continue;
    if (length === undefined) length = arg.length;
    else if (arg.length !== length) {
      throw new ValidationError(`${name} has ${arg.length} values but other arguments have ${length}`, name);
    }
  }
  const n = length ?? 1;
  const columns = {} as Record<Name, number[]>;
  for (const name of names) {
    const arg = args[name];
    columns[name] = typeof arg === 'number' ? new Array<number>(n).fill(arg) : Array.from(arg);
  }
  return { columns, length: n, scalar: length === undefined };
}

/**
 * Applies `fn` customer by customer, broadcasting scalars. Returns a number when every argument is a
 * scalar, otherwise an array as long as the array arguments.
 */
export function mapCustomers<Name extends string>(
  args: Record<Name, PerCustomer>,
  fn: (values: Record<Name, number>, index: number) => number,
): number | number[] {
  const { columns, length, scalar } = broadcast(args);
  const names = Object.keys(columns) as Name[];
  const out = new Array<number>(length);
  for (let i = 0; i < length; i++) {
    const values = {} as Record<Name, number>;
    for (const name of names) values[name] = columns[name][i];
    out[i] = fn(values, i);
  }
  return scalar ? out[0] : out;
}

/**
 * Checks one customer's repeat-purchase history (x, t_x, T): x a non-negative integer, 0 <= t_x <= T
 * (T is finite), and t_x = 0 when x = 0.
 */
export function assertHistory(frequency: number, recency: number, age: number, index: number): void {
  const at = ` (customer ${index})`;
  if (!(Number.isInteger(frequency) && frequency >= 0)) {
    throw new ValidationError(`frequency must be a non-negative integer, got ${frequency}${at}`, 'frequency');
  }
  if (!(Number.isFinite(age) && age >= 0)) throw new ValidationError(`age must be >= 0, got ${age}${at}`, 'age');
  if (!(recency >= 0 && recency <= age)) {
    throw new ValidationError(`recency must lie in [0, age], got ${recency} with age ${age}${at}`, 'recency');
  }
  if (frequency === 0 && recency !== 0) {
    throw new ValidationError(`recency must be 0 when frequency is 0, got ${recency}${at}`, 'recency');
  }
}

/** Checks that a horizon or time span is a non-negative finite number. */
export function assertDuration(value: number, name: string): void {
  if (!(Number.isFinite(value) && value >= 0)) throw new ValidationError(`${name} must be >= 0, got ${value}`, name);
}

/** Copies a fitting column into a plain array after checking its length. */
export function column(values: ArrayLike<number>, name: string, length: number): number[] {
  if (values.length !== length) throw new ValidationError(`${name} has ${values.length} values, expected ${length}`, name);
  return Array.from(values);
}

/** Per-row weights (counts of identical customers), all 1 when omitted. */
export function rowWeights(weights: ArrayLike<number> | undefined, length: number): number[] {
  if (weights === undefined) return new Array<number>(length).fill(1);
  const w = column(weights, 'weights', length);
  w.forEach((wi, i) => {
    if (!(Number.isFinite(wi) && wi > 0)) throw new ValidationError(`weights must be positive, got ${wi} (row ${i})`, 'weights');
  });
  return w;
}
