/**
 * The churn bake-off on a rolling-origin backtest: at each of several past origins o, every candidate is trained
 * on cutoffs whose outcomes were known by o (c + H ≤ o), scores the customers of o, and is compared with what they
 * did in (o, o + H]. The origins' rows are pooled and judged by models/churn/bake-off.ts.
 */
import { performance } from 'node:perf_hooks';
import { ValidationError } from '../lib/errors';
import {
  BoostedCandidate,
  CHURN_CANDIDATES,
  fitChurnCandidate,
  type CandidateFitOptions,
  type ChurnCandidateName,
  type LabelledChurnRows,
} from '../models/churn/candidates';
import { runBakeOff, type BakeOffResult } from '../models/churn/bake-off';
import { rocAuc } from '../models/evaluation/classification';
import type { BootstrapOptions } from '../models/evaluation/bootstrap';
import { trainingCutoffs, type ChurnRowsCache, type ResolvedCutoffOptions } from './churn-training';

export interface OriginReport {
  origin: string;
  fitCutoffs: string[];
  calibrationCutoffs: string[];
  rows: { fit: number; calibration: number; scored: number };
  baseRate: number;
  /** Each candidate's AUC at this origin alone. */
  rocAuc: Partial<Record<ChurnCandidateName, number>>;
}

export interface RollingOriginBakeOff {
  origins: OriginReport[];
  /** Candidates left out, with why (e.g. BG/NBD could not be fitted at some cutoff). */
  excluded: { name: ChurnCandidateName; reason: string }[];
  bakeOff: BakeOffResult;
  trainingMs: number;
}

export interface RollingOriginOptions {
  /** The grid of cutoffs (oldest first); the origins are its latest points that have enough training cutoffs. */
  grid: readonly Date[];
  /** How many origins at most; default 3. */
  origins?: number;
  cutoffs: ResolvedCutoffOptions;
  candidates?: readonly ChurnCandidateName[];
  fit?: Omit<CandidateFitOptions, 'horizonDays'>;
  bootstrap?: BootstrapOptions;
  /** Fit rows per candidate and origin at most (an even stride through them); default: all. Bounds training cost. */
  maxFitRows?: number;
  /** Cutoffs the caller reads after the bake-off: read ahead with the bake-off's own. */
  readAfter?: readonly Date[];
}

/** Cutoffs whose rows are read at once: two snapshots keep both cores busy without crowding the database. */
const READ_AHEAD = 2;

export async function rollingOriginBakeOff(cache: ChurnRowsCache, options: RollingOriginOptions): Promise<RollingOriginBakeOff> {
  const originCount = options.origins ?? 3;
  const names = [...(options.candidates ?? CHURN_CANDIDATES)];
  const fitOptions = { ...options.fit, horizonDays: options.cutoffs.horizonDays };
  const origins = options.grid
    .filter((origin) => {
      try {
        trainingCutoffs(options.grid, origin, options.cutoffs);
        return true;
      } catch {
        return false;
      }
    })
    .slice(-originCount);
  if (origins.length === 0) {
    // The latest grid point's error says what history is missing.
    trainingCutoffs(options.grid, options.grid[options.grid.length - 1] ?? new Date(NaN), options.cutoffs);
    throw new ValidationError('No origin for a churn backtest', 'asOf');
  }

  const needed = origins.flatMap((origin) => {
    const cutoffs = trainingCutoffs(options.grid, origin, options.cutoffs);
    return [...cutoffs.fit, ...cutoffs.calibration, origin];
  });
  const distinct = new Map([...needed, ...(options.readAfter ?? [])].map((cutoff) => [cutoff.getTime(), cutoff]));
  cache.prefetch([...distinct.values()], READ_AHEAD);

  const excluded = new Map<ChurnCandidateName, string>();
  const perOrigin: { labels: Uint8Array; probabilities: Map<ChurnCandidateName, Float64Array> }[] = [];
  const reports: OriginReport[] = [];
  let trainingMs = 0;
  for (const origin of origins) {
    const cutoffs = trainingCutoffs(options.grid, origin, options.cutoffs);
    const fit = strideRows(await cache.stacked(cutoffs.fit), options.maxFitRows ?? Infinity);
    const calibration = await cache.stacked(cutoffs.calibration);
    const scored = await cache.rows(origin);
    const probabilities = new Map<ChurnCandidateName, Float64Array>();
    const started = performance.now();
    for (const name of names) {
      if (excluded.has(name)) continue;
      try {
        const candidate = cache.steps.timeSync(
          `churn bake-off ${origin.toISOString().slice(0, 10)}: fit ${name}`,
          () => fitChurnCandidate(name, fit, calibration, fitOptions),
          (c) =>
            `${fit.nrow} fit rows, ${calibration.nrow} calibration rows${c instanceof BoostedCandidate ? `, ${(c.model.bestIteration ?? 0) + 1} trees` : ''}`,
        );
        try {
          probabilities.set(name, candidate.predictProba(scored));
        } finally {
          candidate.dispose();
        }
      } catch (error) {
        excluded.set(name, `at origin ${origin.toISOString().slice(0, 10)}: ${(error as Error).message}`);
      }
    }
    trainingMs += performance.now() - started;
    perOrigin.push({ labels: scored.y, probabilities });
    reports.push({
      origin: origin.toISOString(),
      fitCutoffs: cutoffs.fit.map((c) => c.toISOString()),
      calibrationCutoffs: cutoffs.calibration.map((c) => c.toISOString()),
      rows: { fit: fit.nrow, calibration: calibration.nrow, scored: scored.nrow },
      baseRate: scored.y.reduce((sum, y) => sum + y, 0) / scored.nrow,
      rocAuc: Object.fromEntries([...probabilities].map(([name, p]) => [name, rocAuc(scored.y, p)])),
    });
  }

  const kept = names.filter((name) => !excluded.has(name));
  if (!kept.some((name) => name !== 'xgboost' && name !== 'logistic')) {
    throw new ValidationError(`No baseline could be evaluated: ${[...excluded.values()].join('; ')}`, 'candidates');
  }
  const labels = concat(
    perOrigin.map((o) => o.labels),
    Uint8Array,
  );
  const predictions = kept.map((name) => ({
    name,
    probabilities: concat(
      perOrigin.map((o) => o.probabilities.get(name)!),
      Float64Array,
    ),
  }));
  for (const report of reports) for (const name of excluded.keys()) delete report.rocAuc[name];
  return {
    origins: reports,
    excluded: [...excluded].map(([name, reason]) => ({ name, reason })),
    bakeOff: cache.steps.timeSync('churn bake-off: pooled metrics and bootstrap', () => runBakeOff(labels, predictions, options.bootstrap)),
    trainingMs,
  };
}

function strideRows(rows: LabelledChurnRows, max: number): LabelledChurnRows {
  if (rows.nrow <= max) return rows;
  const stride = rows.nrow / max;
  const picked = Uint32Array.from({ length: max }, (_, i) => Math.floor(i * stride));
  const X = new Float32Array(max * rows.ncol);
  picked.forEach((row, i) => X.set(rows.X.subarray(row * rows.ncol, (row + 1) * rows.ncol), i * rows.ncol));
  return {
    ...rows,
    X,
    nrow: max,
    y: Uint8Array.from(picked, (row) => rows.y[row]),
    bgnbdNoPurchase: Float64Array.from(picked, (row) => rows.bgnbdNoPurchase[row]),
    customerIds: Array.from(picked, (row) => rows.customerIds[row]),
  };
}

function concat<T extends Uint8Array | Float64Array>(parts: readonly T[], Type: { new (n: number): T }): T {
  const out = new Type(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
