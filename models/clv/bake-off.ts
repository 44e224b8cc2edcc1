/**
 * The CLV bake-off: candidate forecasts compared on a rolling-origin backtest (several past origins whose horizon
 * outcomes are known), pooled over the origins, with seeded bootstrap intervals, and the rule that picks the model to
 * serve. Pure: the forecasts come in as arrays.
 */
import { ModelError } from '../../lib/errors';
import { bootstrapIntervals, pick, type BootstrapOptions, type Interval } from '../evaluation/bootstrap';
import { rowsInTop } from '../evaluation/ranking';
import { CompensatedSum } from '../evaluation/sum';

/** The candidates from the simplest to the most complex: on a tie the simplest serves. */
export const CLV_CANDIDATES = ['baseline', 'probabilistic', 'gbm', 'blend'] as const;
export type ClvCandidate = (typeof CLV_CANDIDATES)[number];
export type BlendComponent = Exclude<ClvCandidate, 'blend'>;
/** Non-negative weights summing to 1 over the components in the blend. */
export type BlendWeights = Partial<Record<BlendComponent, number>>;

export const CLV_MODEL_LABELS: Record<ClvCandidate, string> = {
  baseline: 'Historical average',
  probabilistic: 'BG/NBD + Gamma-Gamma',
  gbm: 'XGBoost Tweedie',
  blend: 'Blend',
};

export const PRIMARY_METRIC = 'Spearman rank correlation, pooled over the origins';

/** One origin's outcome and the forecasts made for it; a component missing here was not available at the origin. */
export interface OriginForecasts {
  actual: ArrayLike<number>;
  forecasts: Partial<Record<BlendComponent, ArrayLike<number>>>;
}

export interface CandidateResult {
  model: ClvCandidate;
  /** Why it cannot serve (not trained at every origin, a flagged fit); null when it can. */
  unavailable: string | null;
  /** Pooled over the origins, with bootstrap intervals; null when unavailable. */
  spearman: Interval | null;
  topDecileCapture: Interval | null;
  /** Total predicted ÷ total actual: the total's bias. */
  predictedToActual: Interval | null;
}

/** Interval of spearman(model) − spearman(versus) on the same resampled rows (paired). */
export interface SpearmanDifference {
  model: ClvCandidate;
  versus: ClvCandidate;
  difference: Interval;
}

export interface ClvBakeOff {
  primaryMetric: string;
  origins: number;
  /** Customer × origin rows pooled. */
  rows: number;
  candidates: CandidateResult[];
  spearmanDifferences: SpearmanDifference[];
  /** The blend's weights chosen on every origin (what a served blend uses); null without two components. */
  blendWeights: BlendWeights | null;
  /** The weights each origin's blend forecast used, chosen on the earlier origins only (equal at the first). */
  blendWeightsByOrigin: (BlendWeights | null)[];
}

export interface ClvModelChoice {
  model: ClvCandidate;
  reason: string;
  /** The served model's pooled Spearman and the historical average's. */
  spearman: Interval;
  baselineSpearman: Interval;
  /** The weights when the blend serves. */
  blendWeights: BlendWeights | null;
}

/** Blend weights are searched on a grid of this step over the simplex, on at most this many pooled rows. */
const BLEND_GRID_STEP = 0.1;
const BLEND_SEARCH_ROWS = 20_000;
export const DEFAULT_BAKE_OFF_BOOTSTRAP: BootstrapOptions = { replicates: 200, level: 0.95 };

/** Σ w_c · forecast_c. */
export function blendForecast(forecasts: Partial<Record<BlendComponent, ArrayLike<number>>>, weights: BlendWeights): Float64Array {
  const entries = Object.entries(weights).filter(([, w]) => w! > 0) as [BlendComponent, number][];
  const n = forecasts[entries[0]![0]]!.length;
  const out = new Float64Array(n);
  for (const [component, w] of entries) {
    const values = forecasts[component];
    if (!values) throw new ModelError(`the blend needs the ${component} forecast`);
    for (let i = 0; i < n; i++) out[i] += w * values[i];
  }
  return out;
}

/**
 * The non-negative weights (summing to 1, on a 0.1 grid) whose blend ranks the pooled rows of `origins` best by
 * Spearman; equal weights when there is no origin to learn from. Searched on an evenly spaced subsample of at most
 * BLEND_SEARCH_ROWS rows.
 */
export function chooseBlendWeights(origins: readonly OriginForecasts[], components: readonly BlendComponent[]): BlendWeights {
  if (origins.length === 0) return Object.fromEntries(components.map((c) => [c, 1 / components.length]));
  const pooled = pool(origins, components);
  const rows = evenRows(pooled.actual.length, BLEND_SEARCH_ROWS);
  const actual = denseColumn(pick(pooled.actual, rows));
  const forecasts = Object.fromEntries(components.map((c) => [c, pick(pooled.forecasts[c]!, rows)]));
  const steps = Math.round(1 / BLEND_GRID_STEP);
  let best: { weights: BlendWeights; spearman: number } | null = null;
  for (const grid of simplexGrid(components.length, steps)) {
    const weights = Object.fromEntries(components.map((c, i) => [c, grid[i]! / steps])) as BlendWeights;
    const spearman = rankCorrelation(actual, blendForecast(forecasts, weights));
    if (best === null || spearman > best.spearman) best = { weights, spearman };
  }
  return best!.weights;
}

/**
 * Pools the origins' rows and compares every available candidate, the blend included, with bootstrap intervals of
 * each metric and of every pair's Spearman difference. `unavailable` names candidates that must not serve (and why),
 * e.g. a flagged fit.
 */
export function runBakeOff(
  origins: readonly OriginForecasts[],
  unavailable: Partial<Record<ClvCandidate, string>> = {},
  bootstrap: BootstrapOptions = DEFAULT_BAKE_OFF_BOOTSTRAP,
): ClvBakeOff {
  if (origins.length === 0) throw new ModelError('the CLV bake-off needs at least one origin');
  const reasons: Partial<Record<ClvCandidate, string>> = { ...unavailable };
  const components = CLV_CANDIDATES.filter((c): c is BlendComponent => {
    if (c === 'blend' || reasons[c]) return false;
    const missing = origins.findIndex((o) => !o.forecasts[c as BlendComponent]);
    if (missing >= 0) reasons[c] = `no forecast at origin ${missing + 1} of ${origins.length}`;
    return missing < 0;
  });
  let blendWeights: BlendWeights | null = null;
  let blendWeightsByOrigin: (BlendWeights | null)[] = origins.map(() => null);
  const withBlend = origins.map((o) => ({ actual: o.actual, forecasts: { ...o.forecasts } as Record<string, ArrayLike<number>> }));
  if (components.length >= 2 && !reasons.blend) {
    blendWeightsByOrigin = origins.map((_, k) => chooseBlendWeights(origins.slice(0, k), components));
    blendWeightsByOrigin.forEach((w, k) => (withBlend[k]!.forecasts.blend = blendForecast(origins[k]!.forecasts, w!)));
    blendWeights = chooseBlendWeights(origins, components);
  } else {
    reasons.blend ??= 'needs at least two available components';
  }
  const served = CLV_CANDIDATES.filter((c) => !reasons[c]);
  const pooled = pool(withBlend, served);
  const n = pooled.actual.length;
  const actual = denseColumn(pooled.actual);
  const forecasts = served.map((c) => denseColumn(pooled.forecasts[c]!));
  const pairs = served.flatMap((model, i) => served.slice(i + 1).map((versus, j) => [i, i + 1 + j] as const));

  // All metrics of a replicate come from one pass (one sort per forecast); bootstrapIntervals calls the metrics in
  // order on the same rows, so the first computes the replicate and the others read it.
  const replicate = new ReplicateMetrics(actual, forecasts, pairs);
  let current: number[] = [];
  const metricCount = 3 * served.length + pairs.length;
  const metrics = Array.from({ length: metricCount }, (_, m) => (rows: Uint32Array) => {
    if (m === 0) current = replicate.of(rows);
    return current[m]!;
  });
  const intervals = bootstrapIntervals(n, metrics, bootstrap);
  const candidates = CLV_CANDIDATES.map((model): CandidateResult => {
    const i = served.indexOf(model);
    if (i < 0) return { model, unavailable: reasons[model]!, spearman: null, topDecileCapture: null, predictedToActual: null };
    return {
      model,
      unavailable: null,
      spearman: intervals[3 * i]!,
      topDecileCapture: intervals[3 * i + 1]!,
      predictedToActual: intervals[3 * i + 2]!,
    };
  });
  return {
    primaryMetric: PRIMARY_METRIC,
    origins: origins.length,
    rows: n,
    candidates,
    spearmanDifferences: pairs.map(([a, b], p) => ({
      model: served[a]!,
      versus: served[b]!,
      difference: intervals[3 * served.length + p]!,
    })),
    blendWeights,
    blendWeightsByOrigin,
  };
}

/**
 * The model to serve: the best pooled Spearman, except that a simpler candidate whose difference from the best is
 * within the bootstrap interval (the interval of the paired difference contains 0) serves instead, the simplest
 * first (historical average, then BG/NBD + Gamma-Gamma, XGBoost, the blend). A model that ranks below the historical
 * average's point estimate never serves, so the served Spearman is never below the historical average's on the
 * backtest. `unavailable` adds candidates that must not serve (e.g. a fit flagged at serving time); a blend that
 * gives weight to an unavailable component is unavailable too.
 */
export function chooseClvModel(bakeOff: ClvBakeOff, unavailable: Partial<Record<ClvCandidate, string>> = {}): ClvModelChoice {
  const blocked = (c: CandidateResult): boolean => {
    if (c.unavailable || unavailable[c.model]) return true;
    return (
      c.model === 'blend' &&
      Object.entries(bakeOff.blendWeights ?? {}).some(([component, w]) => w! > 0 && unavailable[component as ClvCandidate])
    );
  };
  const usable = bakeOff.candidates.filter((c) => !blocked(c) && c.spearman !== null);
  const baseline = bakeOff.candidates.find((c) => c.model === 'baseline');
  if (!baseline?.spearman || usable.length === 0) throw new ModelError('no CLV candidate could be evaluated: nothing to serve');
  const best = usable.reduce((a, b) => (b.spearman!.estimate > a.spearman!.estimate ? b : a));
  const fmt = (v: number) => v.toFixed(3);
  const range = (i: Interval) => `[${fmt(i.lower)}, ${fmt(i.upper)}]`;
  for (const candidate of usable) {
    if (candidate.spearman!.estimate < baseline.spearman.estimate) continue;
    const choice = { model: candidate.model, spearman: candidate.spearman!, baselineSpearman: baseline.spearman };
    const blendWeights = candidate.model === 'blend' ? bakeOff.blendWeights : null;
    if (candidate === best) {
      const others = usable.filter((c) => c !== best).map((c) => `${CLV_MODEL_LABELS[c.model]} ${fmt(c.spearman!.estimate)}`);
      return {
        ...choice,
        blendWeights,
        reason:
          `best ${PRIMARY_METRIC} (${fmt(best.spearman!.estimate)} ${range(best.spearman!)})` +
          (others.length > 0 ? `, against ${others.join(', ')}, and no simpler model within the bootstrap interval of it` : ''),
      };
    }
    const difference = spearmanDifference(bakeOff, candidate.model, best.model);
    if (difference && difference.upper >= 0) {
      return {
        ...choice,
        blendWeights,
        reason:
          `${PRIMARY_METRIC} ${fmt(candidate.spearman!.estimate)} ${range(candidate.spearman!)}; the best, ` +
          `${CLV_MODEL_LABELS[best.model]} (${fmt(best.spearman!.estimate)}), is not better beyond the bootstrap interval of ` +
          `the difference (${fmt(difference.estimate)} ${range(difference)}), so the simpler model serves`,
      };
    }
  }
  throw new ModelError('no CLV candidate ranks at least as well as the historical average'); // unreachable: the baseline itself qualifies
}

/** The interval of spearman(model) − spearman(versus), from whichever order the pair was computed in. */
export function spearmanDifference(bakeOff: ClvBakeOff, model: ClvCandidate, versus: ClvCandidate): Interval | null {
  for (const d of bakeOff.spearmanDifferences) {
    if (d.model === model && d.versus === versus) return d.difference;
    if (d.model === versus && d.versus === model) {
      const { estimate, lower, upper } = d.difference;
      return { ...d.difference, estimate: -estimate, lower: -upper, upper: -lower };
    }
  }
  return null;
}

/**
 * A column's values replaced by the index of their value among the column's distinct values (ascending). A resample's
 * average ranks and top rows then come from counting those indices, in linear time with no sort: that is what makes
 * hundreds of bootstrap replicates of a few hundred thousand rows affordable.
 */
interface DenseColumn {
  values: Float64Array;
  ids: Uint32Array;
  distinct: number;
}

function denseColumn(values: Float64Array): DenseColumn {
  const sorted = Float64Array.from(values).sort();
  const distinctValues: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinctValues.push(sorted[i]!);
  const ids = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) ids[i] = lowerBound(distinctValues, values[i]!);
  return { values, ids, distinct: distinctValues.length };
}

function lowerBound(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Per forecast: Spearman, top-decile capture, total ratio; then each pair's Spearman difference. NaN when undefined.
 * Two passes over a replicate's rows whatever the number of forecasts (counts and totals, then rank products and top
 * sums), into buffers kept between replicates; each sum runs in row order, as the one-metric-at-a-time helpers did.
 */
class ReplicateMetrics {
  readonly #actualCounts: Float64Array;
  readonly #actualRanks: Float64Array;
  readonly #counts: Float64Array[];
  readonly #ranks: Float64Array[];

  constructor(
    readonly actual: DenseColumn,
    readonly forecasts: readonly DenseColumn[],
    readonly pairs: readonly (readonly [number, number])[],
  ) {
    this.#actualCounts = new Float64Array(actual.distinct);
    this.#actualRanks = new Float64Array(actual.distinct);
    this.#counts = forecasts.map((f) => new Float64Array(f.distinct));
    this.#ranks = forecasts.map((f) => new Float64Array(f.distinct));
  }

  of(rows: Uint32Array): number[] {
    const { actual, forecasts } = this;
    const m = forecasts.length;
    const actualCounts = this.#actualCounts.fill(0);
    const counts = this.#counts.map((c) => c.fill(0));
    const total = new CompensatedSum();
    const predicted = forecasts.map(() => new CompensatedSum());
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      actualCounts[actual.ids[row]!]!++;
      total.add(actual.values[row]!);
      for (let f = 0; f < m; f++) {
        counts[f]![forecasts[f]!.ids[row]!]!++;
        predicted[f]!.add(forecasts[f]!.values[row]!);
      }
    }
    const actualRanks = averageRanks(actualCounts, this.#actualRanks);
    const ranks = counts.map((c, f) => averageRanks(c, this.#ranks[f]!));
    const top = rowsInTop(0.1, rows.length);
    const cuts = counts.map((c) => topCut(c, top));

    // Pearson's correlation of the ranks (both with mean (n + 1)/2) and the actual sum over each forecast's top rows.
    const mean = (rows.length + 1) / 2;
    let aa = 0;
    const ab = new Float64Array(m);
    const bb = new Float64Array(m);
    const above = new Float64Array(m);
    const tied = new Float64Array(m);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const x = actualRanks[actual.ids[row]!]! - mean;
      aa += x * x;
      const value = actual.values[row]!;
      for (let f = 0; f < m; f++) {
        const id = forecasts[f]!.ids[row]!;
        const y = ranks[f]![id]! - mean;
        ab[f] += x * y;
        bb[f] += y * y;
        if (id > cuts[f]!.cut) above[f] += value;
        else if (id === cuts[f]!.cut) tied[f] += value;
      }
    }
    const sum = total.value;
    const spearmans: number[] = [];
    const out: number[] = [];
    for (let f = 0; f < m; f++) {
      const spearman = aa > 0 && bb[f]! > 0 ? ab[f]! / Math.sqrt(aa * bb[f]!) : Number.NaN;
      spearmans.push(spearman);
      const { cut, rowsAbove } = cuts[f]!;
      const captured = above[f]! + (tied[f]! * (top - rowsAbove)) / counts[f]![cut]!;
      out.push(spearman, sum > 0 ? captured / sum : Number.NaN, sum > 0 ? predicted[f]!.value / sum : Number.NaN);
    }
    for (const [a, b] of this.pairs) out.push(spearmans[a]! - spearmans[b]!);
    return out;
  }
}

/** Each distinct value's average rank (lowest first, ties sharing their mean rank) among rows counted by `counts`. */
function averageRanks(counts: Float64Array, into: Float64Array): Float64Array {
  let before = 0;
  for (let k = 0; k < counts.length; k++) {
    into[k] = before + (counts[k]! + 1) / 2;
    before += counts[k]!;
  }
  return into;
}

/**
 * Where the `count` highest rows end: the distinct value `cut` whose rows straddle the count (they count pro rata,
 * as ranking.ts's sumOverTop) and how many rows lie above it.
 */
function topCut(counts: Float64Array, count: number): { cut: number; rowsAbove: number } {
  let cut = counts.length - 1;
  let rowsAbove = 0;
  while (cut > 0 && rowsAbove + counts[cut]! < count) rowsAbove += counts[cut--]!;
  return { cut, rowsAbove };
}

/** Spearman's correlation of two columns (NaN when either is constant); the actual one ranked once by the caller. */
function rankCorrelation(actual: DenseColumn, forecast: Float64Array): number {
  return pearson(ranksOf(actual), ranksOf(denseColumn(forecast)));
}

/** Every row's average rank. */
function ranksOf(column: DenseColumn): Float64Array {
  const counts = new Float64Array(column.distinct);
  for (let i = 0; i < column.ids.length; i++) counts[column.ids[i]!]!++;
  const rankOfId = averageRanks(counts, new Float64Array(column.distinct));
  return Float64Array.from(column.ids, (id) => rankOfId[id]!);
}

/** Pearson correlation of two rank vectors, both with mean (n + 1)/2. */
function pearson(a: Float64Array, b: Float64Array): number {
  const mean = (a.length + 1) / 2;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! - mean;
    const y = b[i]! - mean;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : Number.NaN;
}

function pool(
  origins: readonly { actual: ArrayLike<number>; forecasts: Partial<Record<string, ArrayLike<number>>> }[],
  models: readonly string[],
): { actual: Float64Array; forecasts: Record<string, Float64Array> } {
  const n = origins.reduce((sum, o) => sum + o.actual.length, 0);
  const actual = new Float64Array(n);
  const forecasts: Record<string, Float64Array> = Object.fromEntries(models.map((m) => [m, new Float64Array(n)]));
  let offset = 0;
  for (const o of origins) {
    actual.set(Array.from(o.actual), offset);
    for (const m of models) forecasts[m]!.set(Array.from(o.forecasts[m]!), offset);
    offset += o.actual.length;
  }
  return { actual, forecasts };
}

/** At most `max` row indices spread evenly over n rows. */
function evenRows(n: number, max: number): Uint32Array {
  if (n <= max) return Uint32Array.from({ length: n }, (_, i) => i);
  return Uint32Array.from({ length: max }, (_, i) => Math.floor((i * n) / max));
}

/** Every vector of `parts` non-negative integers summing to `total`. */
function* simplexGrid(parts: number, total: number): Generator<number[]> {
  if (parts === 1) {
    yield [total];
    return;
  }
  for (let first = total; first >= 0; first--) for (const rest of simplexGrid(parts - 1, total - first)) yield [first, ...rest];
}
