/**
 * Percentile bootstrap intervals for any metric of paired per-customer arrays, and for the difference between two
 * models' metrics on the same customers (paired resampling: both models see the same resampled rows, so the interval
 * of the difference is much narrower than the two intervals side by side). Seeded: the same inputs and seed give the
 * same interval.
 */
import { ValidationError } from '../../lib/errors';
import { mulberry32 } from '../../lib/random';

export interface Interval {
  /** The metric on the full sample. */
  estimate: number;
  /** 2.5 % and 97.5 % percentiles of the bootstrap distribution (for level 0.95). */
  lower: number;
  upper: number;
  level: number;
  replicates: number;
}

export interface BootstrapOptions {
  replicates?: number;
  level?: number;
  seed?: number;
}

/** A metric of the rows picked by `rows` (indices into the caller's arrays, with repeats). */
export type RowMetric = (rows: Uint32Array) => number;

const DEFAULTS = { replicates: 500, level: 0.95, seed: 20261129 };

function percentile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

function check(n: number, options: BootstrapOptions): Required<BootstrapOptions> {
  const o = { ...DEFAULTS, ...options };
  if (!Number.isInteger(n) || n < 2) throw new ValidationError(`bootstrap needs at least 2 rows, got ${n}`, 'rows');
  if (!Number.isInteger(o.replicates) || o.replicates < 20) throw new ValidationError('replicates must be an integer ≥ 20', 'replicates');
  if (!(o.level > 0 && o.level < 1)) throw new ValidationError('level must lie in (0, 1)', 'level');
  return o;
}

/**
 * The percentile interval of `metrics` (one or several, evaluated on the same resamples) over `n` rows. Replicates on
 * which a metric is undefined (NaN, e.g. an AUC of a resample with one class) are left out of that metric's interval.
 */
export function bootstrapIntervals(n: number, metrics: readonly RowMetric[], options: BootstrapOptions = {}): Interval[] {
  const o = check(n, options);
  const all = new Uint32Array(n).map((_, i) => i);
  const estimates = metrics.map((metric) => metric(all));
  const draws = metrics.map(() => new Float64Array(o.replicates));
  const random = mulberry32(o.seed);
  const rows = new Uint32Array(n);
  for (let b = 0; b < o.replicates; b++) {
    for (let i = 0; i < n; i++) rows[i] = Math.floor(random() * n);
    metrics.forEach((metric, m) => (draws[m]![b] = metric(rows)));
  }
  const tail = (1 - o.level) / 2;
  return metrics.map((_, m) => {
    const finite = draws[m]!.filter((v) => Number.isFinite(v)).sort();
    if (finite.length === 0) return { estimate: estimates[m]!, lower: NaN, upper: NaN, level: o.level, replicates: 0 };
    return {
      estimate: estimates[m]!,
      lower: percentile(finite, tail),
      upper: percentile(finite, 1 - tail),
      level: o.level,
      replicates: finite.length,
    };
  });
}

/** Interval of one metric. */
export function bootstrapInterval(n: number, metric: RowMetric, options: BootstrapOptions = {}): Interval {
  return bootstrapIntervals(n, [metric], options)[0]!;
}

/** Interval of metric(a) − metric(b) on the same resampled rows (paired). */
export function bootstrapDifference(n: number, a: RowMetric, b: RowMetric, options: BootstrapOptions = {}): Interval {
  return bootstrapInterval(n, (rows) => a(rows) - b(rows), options);
}

/** The values of `source` at `rows`, for metrics written over whole arrays: `(rows) => rocAuc(pick(y, rows), pick(p, rows))`. */
export function pick(source: ArrayLike<number>, rows: Uint32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = source[rows[i]!]!;
  return out;
}

/** 0/1 labels at `rows`, in the form the classification metrics take. */
export function pickLabels(source: ArrayLike<number>, rows: Uint32Array): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = source[rows[i]!]!;
  return out;
}
