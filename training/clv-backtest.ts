import type { Knex } from 'knex';
import { ValidationError } from '../lib/errors';
import { DAYS_PER_MONTH, MS_PER_DAY } from '../lib/horizons';
import type { BootstrapOptions, Interval } from '../models/evaluation/bootstrap';
import { evaluateRegressor, type RegressionMetrics } from '../models/evaluation/regression';
import { compensatedSum } from '../models/evaluation/sum';
import {
  CLV_CANDIDATES,
  CLV_MODEL_LABELS,
  DEFAULT_BAKE_OFF_BOOTSTRAP,
  chooseClvModel as chooseFromBakeOff,
  runBakeOff,
  spearmanDifference,
  type BlendComponent,
  type BlendWeights,
  type ClvBakeOff,
  type ClvCandidate,
  type ClvModelChoice,
  type OriginForecasts,
} from '../models/clv/bake-off';
import { historicalAverageClv } from '../models/clv/baseline';
import type { ClvFitFlag } from '../models/clv/fit-diagnostics';
import { GbmClv, type GbmClvOptionsInput } from '../models/clv/gbm-clv';
import { ProbabilisticClv, type ProbabilisticClvFitState, type ProbabilisticClvOptionsInput } from '../models/clv/probabilistic-clv';
import { featuresAsOf } from '../features/features-as-of';
import { clvSummary, DEFAULT_RECENT_WINDOW_DAYS, type ClvSummary } from '../features/clv-summary';
import type { TrainingSample } from '../features/training-sample';
import type { FeatureMatrix } from '../features/types';
import { StepTimings } from './step-timings';

export { CLV_MODEL_LABELS, type ClvCandidate as ClvModelName, type ClvModelChoice };

/**
 * The CLV bake-off on a rolling-origin backtest: at several past origins t (the latest given, the others
 * originSpacingDays apart before it), forecast each customer's net revenue over the next H days with every candidate,
 * then compare with what they actually brought in (t, t + H]. At each origin:
 * - BG/NBD + Gamma-Gamma are calibrated on everything up to t (they need no labels); a flagged fit (fit-diagnostics)
 *   keeps the model out of serving;
 * - the GBM learns from the previous window: features at c = t − H, target the net revenue in (c, t]; it then scores
 *   features at t. Too few customers at c and it is not trained (and so not a candidate);
 * - the historical average (last 365 days' net spend, scaled to H) is computed at t;
 * - the blend's weights are chosen on the earlier origins only.
 * Nothing after t is read except the outcome. The candidates are compared on the rows of every origin pooled, with
 * bootstrap intervals, and chooseClvModel picks the one to serve.
 */

export interface ClvBacktestOptions {
  /** The latest origin t: its outcome window (t, t + H] must be in the data. */
  asOf: Date;
  /** H: the forecast horizon in days. */
  horizonDays: number;
  /** Names the data in the report. */
  dataset?: string;
  /** How many origins at most, the latest included. Default 3. */
  origins?: number;
  /** Days between origins. Default 91. */
  originSpacingDays?: number;
  /** An origin needs at least this many days of purchases before it (from the first purchase in the data). Default 90. */
  minHistoryDays?: number;
  probabilistic?: Omit<ProbabilisticClvOptionsInput, 'horizonMonths' | 'monthlyDiscountRate'>;
  gbm?: Omit<GbmClvOptionsInput, 'horizonDays'>;
  bootstrap?: BootstrapOptions;
  /** Records the wall time of each step. */
  steps?: StepTimings;
  /** Only this training sample's customers (features/training-sample.ts); default everyone. */
  sample?: TrainingSample | null;
  /**
   * Given the latest origin's summary (with its outcome) and features when the GBM was trained there: a model served
   * one horizon after that origin learns from exactly these, and need not read them again.
   */
  onLatestOrigin?: (inputs: LatestOriginInputs) => void;
}

export interface LatestOriginInputs {
  summary: ClvSummary;
  features: FeatureMatrix;
}

export const DEFAULT_ORIGINS = 3;
export const DEFAULT_ORIGIN_SPACING_DAYS = 91;
export const DEFAULT_MIN_HISTORY_DAYS = 90;
/** Fewer customers at the GBM's training cutoff than this and it is not trained: too little to learn from. */
export const MIN_GBM_TRAINING_CUSTOMERS = 1000;

export interface ClvOriginResult {
  /** ISO instants. */
  asOf: string;
  trainingCutoff: string;
  customers: number;
  actualNetRevenue: number;
  /** Each candidate's metrics at this origin alone; null where it made no forecast or the metric is undefined. */
  metrics: Record<ClvCandidate, RegressionMetrics | null>;
  probabilisticFit: ProbabilisticClvFitState | null;
  /** The fit's flags; ['fit_did_not_converge'] when it threw. */
  probabilisticFlags: ClvFitFlag[];
  probabilisticError: string | null;
  gbmSkipped: string | null;
  gbmFit: { trainingCustomers: number; trees: number } | null;
  blendWeights: BlendWeights | null;
}

export interface ClvBacktestResult {
  dataset: string | null;
  /** The latest origin. */
  asOf: string;
  horizonDays: number;
  /** Oldest first. */
  origins: ClvOriginResult[];
  /** Origins left out, with the reason. */
  originsSkipped: { asOf: string; reason: string }[];
  bakeOff: ClvBakeOff;
  choice: ClvModelChoice;
  /** Customers and actual net revenue at the latest origin. */
  customers: number;
  actualNetRevenue: number;
  timingsMs: { probabilistic: number; gbm: number; bakeOff: number; total: number };
}

const day = (date: Date | string) => (typeof date === 'string' ? date : date.toISOString()).slice(0, 10);

export async function backtestClv(db: Knex, options: ClvBacktestOptions): Promise<ClvBacktestResult> {
  const { asOf, horizonDays } = options;
  if (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())) throw new ValidationError('asOf must be a valid date', 'asOf');
  if (!(Number.isFinite(horizonDays) && horizonDays > 0)) {
    throw new ValidationError(`horizonDays must be a positive number of days, got ${horizonDays}`, 'horizonDays');
  }
  const originCount = options.origins ?? DEFAULT_ORIGINS;
  const spacing = options.originSpacingDays ?? DEFAULT_ORIGIN_SPACING_DAYS;
  const minHistoryDays = options.minHistoryDays ?? DEFAULT_MIN_HISTORY_DAYS;
  if (!(Number.isInteger(originCount) && originCount >= 1))
    throw new ValidationError(`origins must be a whole number >= 1, got ${originCount}`, 'origins');
  if (!(spacing > 0)) throw new ValidationError(`originSpacingDays must be positive, got ${spacing}`, 'originSpacingDays');
  const started = performance.now();
  const timings = { probabilistic: 0, gbm: 0, bakeOff: 0, total: 0 };
  const steps = options.steps ?? new StepTimings();

  const first = (await db('orders').whereNot({ status: 'cancelled' }).min({ at: 'ordered_at' }).first()) as { at: Date | null } | undefined;
  if (!first?.at) throw new ValidationError('no purchase in the database: nothing to backtest', 'asOf');
  const originsSkipped: ClvBacktestResult['originsSkipped'] = [];
  const originDates: Date[] = [];
  for (let k = originCount - 1; k >= 0; k--) {
    const origin = new Date(asOf.getTime() - k * spacing * MS_PER_DAY);
    const history = (origin.getTime() - new Date(first.at).getTime()) / MS_PER_DAY;
    if (history < minHistoryDays) {
      originsSkipped.push({
        asOf: origin.toISOString(),
        reason: `${Math.max(0, Math.floor(history))} days of purchases before it; needs ${minHistoryDays}`,
      });
    } else originDates.push(origin);
  }
  if (originDates.length === 0) {
    throw new ValidationError(
      `no origin has ${minHistoryDays} days of purchases before it (the first purchase is ${day(new Date(first.at))})`,
      'asOf',
    );
  }

  const origins: ClvOriginResult[] = [];
  const forecasts: OriginForecasts[] = [];
  for (const origin of originDates) {
    const latest = origin === originDates[originDates.length - 1];
    const evaluated = await evaluateOrigin(db, origin, horizonDays, options, timings, steps, latest ? options.onLatestOrigin : undefined);
    origins.push(evaluated.result);
    forecasts.push(evaluated.forecasts);
  }

  const unavailable: Partial<Record<ClvCandidate, string>> = {};
  const flagged = origins.find((o) => o.probabilisticFlags.length > 0);
  if (flagged) unavailable.probabilistic = `fit flagged at ${day(flagged.asOf)}: ${flagged.probabilisticFlags.join(', ')}`;
  const skipped = origins.find((o) => o.gbmSkipped !== null);
  if (skipped) unavailable.gbm = `not trained at ${day(skipped.asOf)}: ${skipped.gbmSkipped}`;
  const clock = performance.now();
  const bakeOff = steps.timeSync('clv bake-off: pooled metrics and bootstrap', () =>
    runBakeOff(forecasts, unavailable, options.bootstrap ?? DEFAULT_BAKE_OFF_BOOTSTRAP),
  );
  timings.bakeOff = performance.now() - clock;
  bakeOff.blendWeightsByOrigin.forEach((weights, k) => {
    origins[k]!.blendWeights = weights;
    if (weights) origins[k]!.metrics.blend = metricsOrNull(forecasts[k]!.actual, blendOf(forecasts[k]!, weights));
  });
  const latest = origins[origins.length - 1]!;
  timings.total = performance.now() - started;
  return {
    dataset: options.dataset ?? null,
    asOf: asOf.toISOString(),
    horizonDays,
    origins,
    originsSkipped,
    bakeOff,
    choice: chooseFromBakeOff(bakeOff),
    customers: latest.customers,
    actualNetRevenue: latest.actualNetRevenue,
    timingsMs: timings,
  };
}

/**
 * The model to serve from a backtest (see models/clv/bake-off chooseClvModel); `unavailable` adds candidates that must
 * not serve, e.g. a probabilistic fit flagged at serving time, whose fallback is then the best of the rest.
 */
export function chooseClvModel(result: ClvBacktestResult, unavailable: Partial<Record<ClvCandidate, string>> = {}): ClvModelChoice {
  return chooseFromBakeOff(result.bakeOff, unavailable);
}

async function evaluateOrigin(
  db: Knex,
  origin: Date,
  horizonDays: number,
  options: ClvBacktestOptions,
  timings: ClvBacktestResult['timingsMs'],
  steps: StepTimings,
  onInputs?: (inputs: LatestOriginInputs) => void,
): Promise<{ result: ClvOriginResult; forecasts: OriginForecasts }> {
  const cutoff = new Date(origin.getTime() - horizonDays * MS_PER_DAY);
  const at = `clv bake-off ${day(origin)}`;
  const scored = await steps.time(`${at}: purchase summary`, () =>
    clvSummary(db, { asOf: origin, holdoutDays: horizonDays, sample: options.sample }),
  );
  if (scored.customerIds.length === 0) throw new ValidationError(`no customer had purchased by ${origin.toISOString()}`, 'asOf');
  const actual = scored.holdout!.netRevenue;
  const predictions: Partial<Record<BlendComponent, Float64Array>> = { baseline: historicalAverageClv(scored, horizonDays) };

  let clock = performance.now();
  let probabilisticFit: ProbabilisticClvFitState | null = null;
  let probabilisticFlags: ClvFitFlag[] = [];
  let probabilisticError: string | null = null;
  try {
    const model = steps.timeSync(`${at}: BG/NBD + Gamma-Gamma fit`, () =>
      new ProbabilisticClv({ ...options.probabilistic, horizonMonths: horizonDays / DAYS_PER_MONTH }).fit(scored),
    );
    probabilisticFit = model.fitState;
    probabilisticFlags = probabilisticFit.flags;
    const forecast = model.predict(scored).expectedNetRevenue;
    if (forecast.every(Number.isFinite)) predictions.probabilistic = forecast;
    else probabilisticFlags = [...probabilisticFlags, 'fit_did_not_converge'];
  } catch (err) {
    probabilisticError = (err as Error).message;
    probabilisticFlags = ['fit_did_not_converge'];
  }
  timings.probabilistic += performance.now() - clock;

  clock = performance.now();
  const training = await steps.time(`${at}: GBM purchase summary`, () =>
    clvSummary(db, { asOf: cutoff, holdoutDays: horizonDays, sample: options.sample }),
  );
  const trainingCustomers = training.customerIds.length;
  const gbmSkipped =
    trainingCustomers < MIN_GBM_TRAINING_CUSTOMERS
      ? `${trainingCustomers} customers had purchased by the training cutoff ${cutoff.toISOString()}; ` +
        `the GBM needs at least ${MIN_GBM_TRAINING_CUSTOMERS}`
      : null;
  let gbmFit: ClvOriginResult['gbmFit'] = null;
  if (gbmSkipped === null) {
    const trainingFeatures = await steps.time(`${at}: GBM training features`, () =>
      featuresAsOf(db, cutoff, training.customerIds, options.sample),
    );
    const scoringFeatures = await steps.time(`${at}: GBM scoring features`, () =>
      featuresAsOf(db, origin, scored.customerIds, options.sample),
    );
    const gbm = steps.timeSync(
      `${at}: GBM fit`,
      () => new GbmClv({ ...options.gbm, horizonDays }).fit(trainingFeatures, training.holdout!.netRevenue),
      (g) => `${trainingFeatures.nrow} rows, ${(g.bestIteration ?? 0) + 1} trees`,
    );
    onInputs?.({ summary: scored, features: scoringFeatures });
    try {
      predictions.gbm = gbm.predict(scoringFeatures);
      gbmFit = { trainingCustomers, trees: (gbm.bestIteration ?? 0) + 1 };
    } finally {
      gbm.dispose();
    }
  }
  timings.gbm += performance.now() - clock;

  const metrics = Object.fromEntries(
    CLV_CANDIDATES.map((c) => [c, c === 'blend' || !predictions[c] ? null : metricsOrNull(actual, predictions[c])]),
  ) as Record<ClvCandidate, RegressionMetrics | null>;
  return {
    result: {
      asOf: origin.toISOString(),
      trainingCutoff: cutoff.toISOString(),
      customers: scored.customerIds.length,
      actualNetRevenue: compensatedSum(actual),
      metrics,
      probabilisticFit,
      probabilisticFlags,
      probabilisticError,
      gbmSkipped,
      gbmFit,
      blendWeights: null,
    },
    forecasts: { actual, forecasts: predictions },
  };
}

function blendOf(origin: OriginForecasts, weights: BlendWeights): Float64Array {
  const n = origin.actual.length;
  const out = new Float64Array(n);
  for (const [component, w] of Object.entries(weights) as [BlendComponent, number][]) {
    const values = origin.forecasts[component]!;
    for (let i = 0; i < n; i++) out[i] += w * values[i]!;
  }
  return out;
}

/** The metrics, or null where one is undefined (e.g. a constant forecast has no rank correlation). */
function metricsOrNull(actual: ArrayLike<number>, forecast: ArrayLike<number>): RegressionMetrics | null {
  try {
    return evaluateRegressor(actual as Float64Array, forecast as Float64Array);
  } catch {
    return null;
  }
}

const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const withInterval = (i: Interval | null) => (i ? `${fmt(i.estimate)} [${fmt(i.lower)}, ${fmt(i.upper)}]` : '—');
const weightsText = (w: BlendWeights | null) =>
  w
    ? Object.entries(w)
        .map(([c, v]) => `${CLV_MODEL_LABELS[c as ClvCandidate]} ${fmt(v, 1)}`)
        .join(' + ')
    : '—';

/** One line for a terminal: each candidate's pooled Spearman and the served model. */
export function clvBacktestSummaryLine(result: ClvBacktestResult): string {
  const parts = result.bakeOff.candidates.map((c) => `${c.model} ${fmt(c.spearman?.estimate)}`);
  return `CLV Spearman (pooled over ${result.origins.length} origins): ${parts.join(', ')}; serving ${result.choice.model}`;
}

/**
 * The backtest as a Markdown section: the origins, each candidate's pooled Spearman, top-decile capture and total ÷
 * actual with bootstrap 95 % intervals beside the historical average, the per-origin Spearman, fit flags, and the
 * serving decision with its reason and the served model's total bias.
 */
export function clvBacktestToMarkdown(result: ClvBacktestResult): string {
  const money = (value: number) => value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const { bakeOff, choice } = result;
  const level = bakeOff.candidates.find((c) => c.spearman)?.spearman?.level ?? 0.95;
  const percent = `${Math.round(level * 100)} %`;
  const served = bakeOff.candidates.find((c) => c.model === choice.model)!;
  const lines = [
    `## CLV backtest${result.dataset ? `: ${result.dataset}` : ''}`,
    '',
    `Rolling origin: at each of ${result.origins.length} origins (${result.origins.map((o) => day(o.asOf)).join(', ')}) every ` +
      `candidate forecasts each customer's net revenue (after returns) over the next ${result.horizonDays} days; the forecasts are ` +
      `compared with what happened, pooled over the origins (${bakeOff.rows.toLocaleString('en-US')} customer × origin rows). ` +
      `Intervals: percentile bootstrap over those rows, ${percent}.`,
    ...(result.originsSkipped.length > 0
      ? ['', `Origins left out: ${result.originsSkipped.map((o) => `${day(o.asOf)} (${o.reason})`).join('; ')}.`]
      : []),
    '',
    `- ${CLV_MODEL_LABELS.baseline}: net spend of the last ${DEFAULT_RECENT_WINDOW_DAYS} days, scaled to ${result.horizonDays} days.`,
    `- ${CLV_MODEL_LABELS.probabilistic}: calibrated on the data up to each origin.`,
    `- ${CLV_MODEL_LABELS.gbm}: features at origin − ${result.horizonDays} days, target the net revenue up to the origin.`,
    `- ${CLV_MODEL_LABELS.blend}: non-negative weights chosen on the earlier origins (equal at the first); served weights ${weightsText(bakeOff.blendWeights)}.`,
    '',
    `| Model | Spearman ↑ | Top-decile capture ↑ | Total ÷ actual → 1 | Δ Spearman vs historical average |`,
    '| --- | ---: | ---: | ---: | ---: |',
    ...bakeOff.candidates.map((c) => {
      const name = `${CLV_MODEL_LABELS[c.model]}${c.model === choice.model ? ' (served)' : ''}`;
      if (c.unavailable) return `| ${name} | not a candidate: ${c.unavailable} | | | |`;
      const delta = c.model === 'baseline' ? null : spearmanDifference(bakeOff, c.model, 'baseline');
      return `| ${name} | ${withInterval(c.spearman)} | ${withInterval(c.topDecileCapture)} | ${withInterval(c.predictedToActual)} | ${c.model === 'baseline' ? '—' : withInterval(delta)} |`;
    }),
    '',
    '| Origin | Customers | Actual net revenue | ' +
      CLV_CANDIDATES.map((c) => `${CLV_MODEL_LABELS[c]} Spearman`).join(' | ') +
      ' | BG/NBD fit flags |',
    '| --- | ---: | ---: |' + CLV_CANDIDATES.map(() => ' ---: |').join('') + ' --- |',
    ...result.origins.map(
      (o) =>
        `| ${day(o.asOf)} | ${o.customers.toLocaleString('en-US')} | ${money(o.actualNetRevenue)} | ` +
        CLV_CANDIDATES.map((c) => fmt(o.metrics[c]?.spearman)).join(' | ') +
        ` | ${o.probabilisticFlags.length > 0 ? o.probabilisticFlags.join(', ') : 'none'} |`,
    ),
    '',
    `Primary metric: ${bakeOff.primaryMetric}; ties within the bootstrap interval of the difference go to the simplest model.`,
    '',
    `Serving: **${CLV_MODEL_LABELS[choice.model]}**: ${choice.reason}. Its total bias (total predicted ÷ actual) on the backtest: ` +
      `${withInterval(served.predictedToActual)}.`,
  ];
  return `${lines.join('\n')}\n`;
}
