/**
 * The churn backtest: a rolling-origin bake-off ending at t. Origins are the latest points of a cutoff grid ending at
 * t (t, t − step, …); at each, every candidate is trained only on cutoffs whose outcomes were known then, scores that
 * origin's customers, and is compared with what they did in the next H days. The pooled rows decide which
 * candidate would serve (models/churn/bake-off.ts) and give every candidate's metrics with bootstrap intervals.
 */
import { performance } from 'node:perf_hooks';
import { reliabilityToMarkdown } from '../models/evaluation/report';
import type { Interval } from '../models/evaluation/bootstrap';
import { CANDIDATE_LABELS, type ChurnCandidateName } from '../models/churn/candidates';
import { observedLabelWindow } from '../features/churn-labels';
import type { Knex } from 'knex';
import {
  ChurnRowsCache,
  cutoffGrid,
  firstPurchaseAt,
  MIN_TRAINING_CUTOFFS,
  resolveCutoffOptions,
  type ChurnCutoffOptions,
  type ChurnRowsTimings,
} from './churn-training';
import { rollingOriginBakeOff, type RollingOriginBakeOff } from './churn-bake-off';
import type { BootstrapOptions } from '../models/evaluation/bootstrap';

export interface BacktestChurnOptions extends ChurnCutoffOptions {
  /** t: the latest origin; (t, t + H] must end by dataAsOf. */
  asOf: Date;
  /** The instant up to which the data is complete. */
  dataAsOf: Date;
  /** Origins at most; default 3. */
  origins?: number;
  bootstrap?: BootstrapOptions;
}

/** Plain data, ready for JSON. */
export interface ChurnBacktestReport extends RollingOriginBakeOff {
  asOf: string;
  dataAsOf: string;
  horizonDays: number;
  cutoffs: { grid: string[]; stepDays: number; minHistoryDays: number; maxTrainingCutoffs: number; minimumTrainingCutoffs: number };
  timings: ChurnRowsTimings & { trainingMs: number; bakeOffMs: number };
}

export interface ChurnBacktest {
  report: ChurnBacktestReport;
  markdown: string;
}

export async function backtestChurn(db: Knex, options: BacktestChurnOptions): Promise<ChurnBacktest> {
  const cutoffs = resolveCutoffOptions(options);
  // Checked before any work: the outcome window of t must have been observed.
  observedLabelWindow(options.asOf, cutoffs.horizonDays, options.dataAsOf, 'asOf');
  const grid = cutoffGrid(options.asOf, await firstPurchaseAt(db), cutoffs);
  const cache = new ChurnRowsCache(db, cutoffs.horizonDays, options.dataAsOf);
  const started = performance.now();
  const result = await rollingOriginBakeOff(cache, { grid, origins: options.origins, cutoffs, bootstrap: options.bootstrap });
  const report: ChurnBacktestReport = {
    asOf: options.asOf.toISOString(),
    dataAsOf: options.dataAsOf.toISOString(),
    horizonDays: cutoffs.horizonDays,
    cutoffs: {
      grid: grid.map((c) => c.toISOString()),
      stepDays: cutoffs.stepDays,
      minHistoryDays: cutoffs.minHistoryDays,
      maxTrainingCutoffs: cutoffs.maxTrainingCutoffs,
      minimumTrainingCutoffs: MIN_TRAINING_CUTOFFS,
    },
    ...result,
    timings: {
      ...cache.timings,
      trainingMs: result.trainingMs,
      bakeOffMs:
        performance.now() -
        started -
        cache.timings.featureSnapshotsMs -
        cache.timings.labelsMs -
        cache.timings.betaGeoMs -
        result.trainingMs,
    },
  };
  return { report, markdown: backtestToMarkdown(report) };
}

const day = (iso: string) => iso.slice(0, 10);
const interval = (i: Interval, digits = 3) => `${i.estimate.toFixed(digits)} [${i.lower.toFixed(digits)}, ${i.upper.toFixed(digits)}]`;
const label = (name: ChurnCandidateName) => CANDIDATE_LABELS[name];

/** The churn backtest as Markdown: set-up and cutoffs, the bake-off with intervals, the served model, reliability. */
export function backtestToMarkdown(report: ChurnBacktestReport): string {
  const { bakeOff } = report;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const served = bakeOff.candidates.find((c) => c.name === bakeOff.served)!;
  return [
    `# Churn backtest: rolling origins to ${day(report.asOf)}, ${report.horizonDays}-day horizon`,
    '',
    `Churn: no completed order in the ${report.horizonDays} days after an origin. ${report.origins.length} origins ` +
      `(${report.origins.map((o) => day(o.origin)).join(', ')}); at each, every candidate was fitted on cutoffs whose outcomes were ` +
      `known by then, calibrated (isotonic) on the pooled later ones, and scored that origin's customers. Cutoffs lie ` +
      `${report.cutoffs.stepDays} days apart on the grid ${report.cutoffs.grid.map(day).join(', ')} (each with at least ` +
      `${report.cutoffs.minHistoryDays} days of purchases before it; at most ${report.cutoffs.maxTrainingCutoffs} and at least ` +
      `${report.cutoffs.minimumTrainingCutoffs} per model). ${bakeOff.rows.toLocaleString('en-US')} pooled rows, of which ` +
      `${(bakeOff.baseRate * 100).toFixed(1)}% churned.`,
    '',
    '| origin | fitted on | calibrated on | customers scored | churned | ' +
      bakeOff.candidates.map((c) => `AUC ${c.label}`).join(' | ') +
      ' |',
    '|---|---|---|---:|---:|' + bakeOff.candidates.map(() => '---:').join('|') + '|',
    ...report.origins.map(
      (o) =>
        `| ${day(o.origin)} | ${o.fitCutoffs.map(day).join(', ')} | ${o.calibrationCutoffs.map(day).join(', ')} | ` +
        `${o.rows.scored.toLocaleString('en-US')} | ${(o.baseRate * 100).toFixed(1)}% | ` +
        bakeOff.candidates.map((c) => o.rocAuc[c.name]?.toFixed(3) ?? '-').join(' | ') +
        ' |',
    ),
    '',
    '## Candidates on the pooled origins (bootstrap 95% intervals)',
    '',
    '| candidate | kind | ROC AUC | calibration error (ECE) | Brier score | top-20% capture |',
    '|---|---|---|---|---|---|',
    ...bakeOff.candidates.map(
      (c) =>
        `| ${c.label}${c.name === bakeOff.served ? ' **(served)**' : ''} | ${c.baseline ? 'baseline' : 'model'} | ${interval(c.rocAuc)} | ` +
        `${interval(c.expectedCalibrationError)} | ${interval(c.brierScore)} | ${interval(c.captureTop20)} |`,
    ),
    '',
    ...(report.excluded.length ? [`Left out: ${report.excluded.map((e) => `${label(e.name)} (${e.reason})`).join('; ')}.`, ''] : []),
    `**Served: ${served.label}.** ${bakeOff.reason}. Primary metric: ROC AUC pooled over the origins; a candidate the best ` +
      'does not beat beyond the paired bootstrap interval of the difference counts as tied, and ties go to the simplest ' +
      `(rules, then BG/NBD, the logistic regression, XGBoost) whose AUC is at least the best baseline's. Margin over the best baseline (${label(bakeOff.bestBaseline)}): ` +
      `${interval(bakeOff.marginOverBestBaseline, 4)} AUC.`,
    '',
    '## Reliability of the served model on the pooled origins',
    '',
    reliabilityToMarkdown(bakeOff.reliability),
    '## Timings',
    '',
    `- Feature snapshots (${report.timings.featureSnapshots}, computed and loaded): ${seconds(report.timings.featureSnapshotsMs)}`,
    `- Labels: ${seconds(report.timings.labelsMs)}; BG/NBD fits: ${seconds(report.timings.betaGeoMs)}`,
    `- Training and scoring every candidate at every origin: ${seconds(report.timings.trainingMs)}`,
    `- Bake-off metrics and bootstrap intervals: ${seconds(report.timings.bakeOffMs)}`,
    '',
  ].join('\n');
}
