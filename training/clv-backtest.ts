import type { Knex } from 'knex';
import { ValidationError } from '../lib/errors';
import { DAYS_PER_MONTH, MS_PER_DAY } from '../lib/horizons';
import { evaluateRegressor, type RegressionMetrics } from '../models/evaluation/regression';
import { compareModels, comparisonToMarkdown, regressionMetricSpecs, type ModelComparison } from '../models/evaluation/report';
import { compensatedSum } from '../models/evaluation/sum';
import { historicalAverageClv } from '../models/clv/baseline';
import { featuresAsOf } from '../features/features-as-of';
import { GbmClv, type GbmClvOptionsInput } from '../models/clv/gbm-clv';
import { ProbabilisticClv, type ProbabilisticClvFitState, type ProbabilisticClvOptionsInput } from '../models/clv/probabilistic-clv';
import { clvSummary, DEFAULT_RECENT_WINDOW_DAYS } from '../features/clv-summary';

/**
 * Backtest of the CLV models on one database: as if it were time t, forecast each customer's net revenue over the
 * next H days, then compare with what they actually brought in (t, t + H].
 *
 * - BG/NBD + Gamma-Gamma are calibrated on everything up to t (they need no labels).
 * - The GBM needs labels, so it learns from the previous window: features at c = t − H, target the net revenue in
 *   (c, t]. Both sides of its training data are at or before t; it then scores features at t.
 * - The historical-average baseline (last 365 days' net spend, scaled to H) is computed at t.
 * Everyone with a purchase at or before t is scored; nothing after t is read except the outcome.
 */

export interface ClvBacktestOptions {
  /** t: the time the forecast is made. */
  asOf: Date;
  /** H: the forecast horizon in days. */
  horizonDays: number;
  /** Names the data in the report. */
  dataset?: string;
  probabilistic?: Omit<ProbabilisticClvOptionsInput, 'horizonMonths' | 'monthlyDiscountRate'>;
  gbm?: Omit<GbmClvOptionsInput, 'horizonDays'>;
}

export type ClvModelName = 'probabilistic' | 'gbm';

export const CLV_MODEL_LABELS: Record<ClvModelName | 'baseline', string> = {
  probabilistic: 'BG/NBD + Gamma-Gamma',
  gbm: 'XGBoost Tweedie',
  baseline: 'Historical average',
};

/** Fewer customers at the GBM's training cutoff than this and it is not trained: too little to learn from. */
export const MIN_GBM_TRAINING_CUSTOMERS = 1000;

export interface ClvBacktestResult {
  dataset: string | null;
  /** ISO instants. */
  asOf: string;
  trainingCutoff: string;
  horizonDays: number;
  customers: number;
  actualNetRevenue: number;
  metrics: { probabilistic: RegressionMetrics; gbm: RegressionMetrics | null; baseline: RegressionMetrics };
  /** Why the GBM was not trained, when it was not. */
  gbmSkipped: string | null;
  comparison: ModelComparison;
  probabilisticFit: ProbabilisticClvFitState;
  gbmFit: { trainingCustomers: number; trees: number } | null;
  timingsMs: { summaries: number; features: number; probabilistic: number; gbm: number; total: number };
}

export async function backtestClv(db: Knex, options: ClvBacktestOptions): Promise<ClvBacktestResult> {
  const { asOf, horizonDays } = options;
  if (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())) throw new ValidationError('asOf must be a valid date', 'asOf');
  if (!(Number.isFinite(horizonDays) && horizonDays > 0)) {
    throw new ValidationError(`horizonDays must be a positive number of days, got ${horizonDays}`, 'horizonDays');
  }
  const started = performance.now();
  const clock = stopwatch();
  const cutoff = new Date(asOf.getTime() - horizonDays * MS_PER_DAY);

  const scored = await clvSummary(db, { asOf, holdoutDays: horizonDays });
  const training = await clvSummary(db, { asOf: cutoff, holdoutDays: horizonDays });
  const summaries = clock();
  if (scored.customerIds.length === 0) throw new ValidationError(`no customer had purchased by ${asOf.toISOString()}`, 'asOf');
  const actual = scored.holdout!.netRevenue;

  const probabilistic = new ProbabilisticClv({ ...options.probabilistic, horizonMonths: horizonDays / DAYS_PER_MONTH }).fit(scored);
  const probabilisticForecast = probabilistic.predict(scored).expectedNetRevenue;
  const probabilisticMs = clock();

  const trainingCustomers = training.customerIds.length;
  const gbmSkipped =
    trainingCustomers < MIN_GBM_TRAINING_CUSTOMERS
      ? `${trainingCustomers} customers had purchased by the training cutoff ${cutoff.toISOString()}; ` +
        `the GBM needs at least ${MIN_GBM_TRAINING_CUSTOMERS}`
      : null;
  let gbmForecast: Float64Array | null = null;
  let gbmFit: ClvBacktestResult['gbmFit'] = null;
  let featuresMs = 0;
  let gbmMs = 0;
  if (gbmSkipped === null) {
    const trainingFeatures = await featuresAsOf(db, cutoff, training.customerIds);
    const scoringFeatures = await featuresAsOf(db, asOf, scored.customerIds);
    featuresMs = clock();
    const gbm = new GbmClv({ ...options.gbm, horizonDays }).fit(trainingFeatures, training.holdout!.netRevenue);
    try {
      gbmForecast = gbm.predict(scoringFeatures);
      gbmFit = { trainingCustomers, trees: (gbm.bestIteration ?? 0) + 1 };
    } finally {
      gbm.dispose();
    }
    gbmMs = clock();
  }

  const metrics = {
    probabilistic: evaluateRegressor(actual, probabilisticForecast),
    gbm: gbmForecast && evaluateRegressor(actual, gbmForecast),
    baseline: evaluateRegressor(actual, historicalAverageClv(scored, horizonDays)),
  };
  const models = [{ name: CLV_MODEL_LABELS.probabilistic, metrics: metrics.probabilistic }];
  if (metrics.gbm) models.push({ name: CLV_MODEL_LABELS.gbm, metrics: metrics.gbm });
  const comparison = compareModels(
    models[0],
    [...models.slice(1), { name: CLV_MODEL_LABELS.baseline, metrics: metrics.baseline }],
    regressionMetricSpecs,
  );

  return {
    dataset: options.dataset ?? null,
    asOf: asOf.toISOString(),
    trainingCutoff: cutoff.toISOString(),
    horizonDays,
    customers: scored.customerIds.length,
    actualNetRevenue: compensatedSum(actual),
    metrics,
    gbmSkipped,
    comparison,
    probabilisticFit: probabilistic.fitState,
    gbmFit,
    timingsMs: { summaries, features: featuresMs, probabilistic: probabilisticMs, gbm: gbmMs, total: performance.now() - started },
  };
}

export interface ClvModelChoice {
  model: ClvModelName;
  reason: string;
}

/** Total predicted ÷ actual further than this from 1 disqualifies a model from winning on ranking alone. */
export const MAX_TOTAL_RATIO_ERROR = 0.25;

/**
 * Which model serves CLV for this dataset. Ranking is what CLV is mostly used for (whom to target), so among the
 * models whose total forecast is within 25% of what happened, the best Spearman correlation wins. If neither total
 * is that close, the forecasts are off in level, and the lower mean absolute error wins instead. Ties go to the
 * probabilistic model, which needs no feature pipeline. The baseline never serves: it is the yardstick.
 */
export function chooseClvModel(result: ClvBacktestResult): ClvModelChoice {
  const candidates = (['probabilistic', 'gbm'] as const).flatMap((model) => {
    const metrics = result.metrics[model];
    return metrics ? [{ model, metrics }] : [];
  });
  const calibrated = candidates.filter((c) => Math.abs(c.metrics.predictedToActual - 1) <= MAX_TOTAL_RATIO_ERROR);
  const fmt = (value: number) => value.toFixed(3);
  if (calibrated.length > 0) {
    const best = calibrated.reduce((a, b) => (b.metrics.spearman > a.metrics.spearman ? b : a));
    return {
      model: best.model,
      reason:
        `best Spearman (${fmt(best.metrics.spearman)}) among the models whose total is within ${MAX_TOTAL_RATIO_ERROR * 100}% ` +
        `of the actual (predicted ÷ actual ${fmt(best.metrics.predictedToActual)})`,
    };
  }
  const best = candidates.reduce((a, b) => (b.metrics.meanAbsoluteError < a.metrics.meanAbsoluteError ? b : a));
  return {
    model: best.model,
    reason:
      `no model's total is within ${MAX_TOTAL_RATIO_ERROR * 100}% of the actual, so the lowest MAE ` +
      `(${fmt(best.metrics.meanAbsoluteError)}) decides`,
  };
}

/** The backtest as a Markdown section: setup, the metrics table beside the baseline, and the serving decision. */
export function clvBacktestToMarkdown(result: ClvBacktestResult): string {
  const money = (value: number) => value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const day = (iso: string) => iso.slice(0, 10);
  const choice = chooseClvModel(result);
  const bg = result.probabilisticFit.betaGeo.params;
  const gg = result.probabilisticFit.gammaGamma.params;
  const lines = [
    `## CLV backtest${result.dataset ? `: ${result.dataset}` : ''}`,
    '',
    `Forecast as of ${result.asOf} for the next ${result.horizonDays} days, against the net revenue (after returns) ` +
      `each of ${result.customers.toLocaleString('en-US')} customers actually brought in: ${money(result.actualNetRevenue)} in total.`,
    '',
    `- ${CLV_MODEL_LABELS.probabilistic}: calibrated on data up to ${day(result.asOf)}; ` +
      `BG/NBD r = ${bg.r.toPrecision(4)}, α = ${bg.alpha.toPrecision(4)} years, a = ${bg.a.toPrecision(4)}, b = ${bg.b.toPrecision(4)}; ` +
      `Gamma-Gamma p = ${gg.p.toPrecision(4)}, q = ${gg.q.toPrecision(4)}, v = ${gg.v.toPrecision(4)}.`,
    result.gbmFit
      ? `- ${CLV_MODEL_LABELS.gbm}: features at ${day(result.trainingCutoff)}, target the net revenue up to ${day(result.asOf)}; ` +
        `${result.gbmFit.trainingCustomers.toLocaleString('en-US')} customers, ${result.gbmFit.trees} trees.`
      : `- ${CLV_MODEL_LABELS.gbm}: not trained: ${result.gbmSkipped}.`,
    `- ${CLV_MODEL_LABELS.baseline}: net spend of the last ${DEFAULT_RECENT_WINDOW_DAYS} days, scaled to ${result.horizonDays} days.`,
    '',
    comparisonToMarkdown(result.comparison).trimEnd(),
    '',
    `Serving: **${CLV_MODEL_LABELS[choice.model]}**: ${choice.reason}.`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Milliseconds since the previous call (or since creation). */
function stopwatch(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const elapsed = now - last;
    last = now;
    return elapsed;
  };
}
