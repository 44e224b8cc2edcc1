/**
 * The churn backtest: would a model trained at t − H have told, at t, who would not buy in (t, t + H]?
 * It trains exactly as trainChurnModel would have at t − H (so nothing after t − H shapes the model), scores
 * the customers of t, and compares with what they did, beside the rule-based baselines.
 *
 * Baselines are scores, not probabilities. Each is mapped to probabilities by isotonic calibration on the
 * model's own calibration cutoff, so that Brier score, log loss and calibration error compare like with like;
 * their ranking metrics (ROC AUC, average precision, lift, capture) come from the raw scores, which the
 * calibration would only coarsen. The model's metrics all come from its calibrated probabilities, as served.
 */
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { DEFAULT_CHURN_HORIZON_DAYS } from '../lib/horizons';
import { IsotonicCalibrator } from '../models/calibration';
import {
  averagePrecision,
  evaluateClassifier,
  liftAndCapture,
  reliabilityTable,
  rocAuc,
  type ClassificationMetrics,
  type ReliabilityBin,
} from '../models/evaluation/classification';
import type { BinaryLabels, NumberArray } from '../models/evaluation/inputs';
import {
  classificationMetricSpecs,
  comparisonToMarkdown,
  compareModels,
  reliabilityToMarkdown,
  type ModelComparison,
  type NamedMetrics,
} from '../models/evaluation/report';
import type { FeatureMatrix } from '../features/types';
import { churnBaselines } from '../models/churn/baselines';
import { addDays, observedLabelWindow, requireHorizonDays } from '../features/churn-labels';
import type { ChurnModel } from '../models/churn/model';
import { buildChurnTrainingData, fitChurnModel, labelledSnapshot, type TrainChurnModelOptions } from './churn-training';

export interface BacktestChurnOptions extends Omit<TrainChurnModelOptions, 'trainAsOf'> {
  /** t: the model is trained as of t − horizonDays and scores the customers of t. */
  asOf: Date;
  /** The instant up to which the data is complete; (t, t + horizonDays] must end by it. */
  dataAsOf: Date;
}

export const MODEL_NAME = 'Churn model';

/** Plain data, ready for JSON. */
export interface ChurnBacktestReport {
  asOf: string;
  horizonDays: number;
  trainAsOf: string;
  trainingCutoffs: string[];
  calibrationCutoff: string;
  rows: { training: number; calibration: number; scored: number };
  /** Boosting rounds kept by early stopping. */
  boostingRounds: number | null;
  model: ClassificationMetrics;
  /** The model's probabilities on the scored period in 10 equal-width bins (the bins of its ECE). */
  reliability: ReliabilityBin[];
  baselines: NamedMetrics<ClassificationMetrics>[];
  comparison: ModelComparison;
  timings: {
    /** Computing and loading every feature snapshot: the training cutoffs, the calibration cutoff and t. */
    featureSnapshotsMs: number;
    featureSnapshots: number;
    labelsMs: number;
    trainingMs: number;
    /** Calibrated probabilities for every customer of t. */
    scoringMs: number;
  };
}

export interface ChurnBacktest {
  report: ChurnBacktestReport;
  markdown: string;
  /** The model trained as of t − H; the caller owns it and must dispose() it. */
  model: ChurnModel;
  /** The customers scored at t, with their outcomes in (t, t + H]. */
  scored: FeatureMatrix & { y: Uint8Array; probabilities: Float64Array };
}

export async function backtestChurn(db: Knex, options: BacktestChurnOptions): Promise<ChurnBacktest> {
  const { asOf, dataAsOf } = options;
  const horizonDays = options.horizonDays ?? DEFAULT_CHURN_HORIZON_DAYS;
  requireHorizonDays(horizonDays);
  // Checked before any work: the outcome window of t must have been observed.
  observedLabelWindow(asOf, horizonDays, dataAsOf, 'asOf');
  const trainAsOf = addDays(asOf, -horizonDays);

  const data = await buildChurnTrainingData(db, { ...options, trainAsOf, horizonDays });
  const trained = fitChurnModel(data, { ...options, trainAsOf, horizonDays });
  const { model } = trained;
  try {
    const timings = { ...trained.timings };
    const scoredMatrix = await labelledSnapshot(db, asOf, horizonDays, dataAsOf, timings);
    const scoringStarted = performance.now();
    const probabilities = model.predictProba(scoredMatrix.X, scoredMatrix.nrow);
    const scoringMs = performance.now() - scoringStarted;
    const labels = scoredMatrix.y;

    const baselines = churnBaselines(horizonDays).map((baseline) => {
      baseline.fit(data.calibration);
      const calibrator = new IsotonicCalibrator().fit(baseline.score(data.calibration), data.calibration.y);
      const scores = baseline.score(scoredMatrix);
      return { name: baseline.name, metrics: evaluateScores(labels, scores, calibrator.predict(scores)) };
    });
    const modelMetrics = evaluateClassifier(labels, probabilities);
    const report: ChurnBacktestReport = {
      asOf: asOf.toISOString(),
      horizonDays,
      trainAsOf: trainAsOf.toISOString(),
      trainingCutoffs: trained.trainingCutoffs.map((cutoff) => cutoff.toISOString()),
      calibrationCutoff: trained.calibrationCutoff.toISOString(),
      rows: { ...trained.rows, scored: scoredMatrix.nrow },
      boostingRounds: model.bestIteration === undefined ? null : model.bestIteration + 1,
      model: modelMetrics,
      reliability: reliabilityTable(labels, probabilities),
      baselines,
      comparison: compareModels({ name: MODEL_NAME, metrics: modelMetrics }, baselines, classificationMetricSpecs()),
      timings: { ...timings, featureSnapshots: data.trainingCutoffs.length + 2, scoringMs },
    };
    return { report, markdown: backtestToMarkdown(report), model, scored: { ...scoredMatrix, probabilities } };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** Ranking metrics from the scores themselves, probability metrics from their calibrated probabilities. */
function evaluateScores(labels: BinaryLabels, scores: NumberArray, probabilities: NumberArray): ClassificationMetrics {
  return {
    ...evaluateClassifier(labels, probabilities),
    rocAuc: rocAuc(labels, scores),
    averagePrecision: averagePrecision(labels, scores),
    topFractions: liftAndCapture(labels, scores),
  };
}

/** The churn backtest as a Markdown run report: set-up, model against baselines, reliability, timings. */
export function backtestToMarkdown(report: ChurnBacktestReport): string {
  const day = (iso: string) => iso.slice(0, 10);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const { model, rows, timings } = report;
  return [
    `# Churn backtest as of ${day(report.asOf)}, ${report.horizonDays}-day horizon`,
    '',
    `Churn: no completed order in (${day(report.asOf)}, as-of + ${report.horizonDays} days]. The model was trained as of ` +
      `${day(report.trainAsOf)} on ${rows.training.toLocaleString('en-US')} rows from the cutoffs ` +
      `${report.trainingCutoffs.map(day).join(', ')} (${report.boostingRounds ?? 'all'} boosting rounds kept), calibrated on ` +
      `${rows.calibration.toLocaleString('en-US')} customers at ${day(report.calibrationCutoff)}, and scored ` +
      `${rows.scored.toLocaleString('en-US')} customers at ${day(report.asOf)}, of whom ${(model.baseRate * 100).toFixed(1)}% churned.`,
    '',
    comparisonToMarkdown(report.comparison),
    'Baselines rank by their raw scores; their probability metrics (Brier score, log loss, calibration error) are of the ' +
      'scores mapped to probabilities by isotonic calibration on the calibration cutoff. The model is measured on its ' +
      'calibrated probabilities throughout. Calibration error: 10 equal-width bins.',
    '',
    '## Reliability of the model on the scored period',
    '',
    reliabilityToMarkdown(report.reliability),
    '## Timings',
    '',
    `- Feature snapshots (${timings.featureSnapshots}, computed and loaded): ${seconds(timings.featureSnapshotsMs)}`,
    `- Labels: ${seconds(timings.labelsMs)}`,
    `- Training (boosting and calibration): ${seconds(timings.trainingMs)}`,
    `- Scoring ${rows.scored.toLocaleString('en-US')} customers: ${seconds(timings.scoringMs)}`,
    '',
  ].join('\n');
}
