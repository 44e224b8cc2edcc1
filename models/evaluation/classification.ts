/**
 * Metrics of a binary classifier, e.g. "churns within 90 days". Labels are 0/1; ranking metrics (ROC AUC,
 * average precision, lift) take any finite scores, while Brier score, log loss and calibration error take
 * probabilities in [0, 1]. A metric that is undefined for the data (ROC AUC when only one class is
 * present, lift when there are no positives) throws a ValidationError naming `labels` rather than
 * returning NaN, so that a degenerate evaluation split fails loudly instead of reporting a number.
 */
import { ValidationError } from '../../lib/errors';
import { checkBinaryInputs, requireFractions, type BinaryLabels, type NumberArray } from './inputs';
import { orderDescending, rowsInTop, sumOverTop, tieGroupEnd } from './ranking';
import { CompensatedSum } from './sum';

/** The top 10% and 20% of customers by risk: the sizes retention campaigns are usually planned at. */
export const defaultTopFractions: readonly number[] = [0.1, 0.2];

/** Rows sorted by score once, so that the ranking metrics of one evaluation share a single sort. */
interface RankedRows {
  labels: BinaryLabels;
  scores: NumberArray;
  /** Row indices, highest score first. */
  order: Uint32Array;
  rows: number;
  positives: number;
}

function rankRows(labels: BinaryLabels, scores: NumberArray, options: { probabilities: boolean; scoresName: string }): RankedRows {
  const { rows, positives } = checkBinaryInputs(labels, scores, options);
  return { labels, scores, order: orderDescending(scores), rows, positives };
}

function positivesBetween(ranked: RankedRows, start: number, end: number): number {
  let positives = 0;
  for (let i = start; i < end; i++) positives += ranked.labels[ranked.order[i]];
  return positives;
}

function requirePositives(ranked: RankedRows, metric: string): void {
  if (ranked.positives === 0) {
    throw new ValidationError(`labels contain no positives, so ${metric} is undefined`, 'labels');
  }
}

/** Area under the ROC curve: the probability that a random positive scores above a random negative. */
export function rocAuc(labels: BinaryLabels, scores: NumberArray): number {
  return rocAucOfRanked(rankRows(labels, scores, { probabilities: false, scoresName: 'scores' }));
}

function rocAucOfRanked(ranked: RankedRows): number {
  const negatives = ranked.rows - ranked.positives;
  if (ranked.positives === 0 || negatives === 0) {
    throw new ValidationError(
      `labels must contain both classes for ROC AUC (got ${ranked.positives} positives and ${negatives} negatives)`,
      'labels',
    );
  }
  // Mann-Whitney U: every (positive, negative) pair ordered correctly counts 1 and every tied pair ½.
  // The counts are integers or halves below 2^53 for any realistic row count, so a plain sum is exact.
  let negativesBelow = negatives;
  let correctPairs = 0;
  for (let start = 0; start < ranked.rows;) {
    const end = tieGroupEnd(ranked.scores, ranked.order, start);
    const groupPositives = positivesBetween(ranked, start, end);
    const groupNegatives = end - start - groupPositives;
    negativesBelow -= groupNegatives;
    correctPairs += groupPositives * (negativesBelow + groupNegatives / 2);
    start = end;
  }
  return correctPairs / (ranked.positives * negatives);
}

/**
 * Area under the precision-recall curve as scikit-learn's average_precision_score defines it: the sum,
 * over each distinct score taken as a threshold (highest first), of the recall gained there times the
 * precision there. No interpolation, so it is not the trapezoidal area (which is optimistic).
 */
export function averagePrecision(labels: BinaryLabels, scores: NumberArray): number {
  return averagePrecisionOfRanked(rankRows(labels, scores, { probabilities: false, scoresName: 'scores' }));
}

function averagePrecisionOfRanked(ranked: RankedRows): number {
  requirePositives(ranked, 'average precision');
  const sum = new CompensatedSum();
  let truePositives = 0;
  for (let start = 0; start < ranked.rows;) {
    const end = tieGroupEnd(ranked.scores, ranked.order, start);
    const groupPositives = positivesBetween(ranked, start, end);
    truePositives += groupPositives;
    // `end` rows score at or above this threshold.
    if (groupPositives > 0) sum.add(groupPositives * (truePositives / end));
    start = end;
  }
  return sum.value / ranked.positives;
}

/** Mean squared difference between probability and outcome; 0 is perfect, 0.25 is a constant 0.5. */
export function brierScore(labels: BinaryLabels, probabilities: NumberArray): number {
  const { rows } = checkBinaryInputs(labels, probabilities, { probabilities: true, scoresName: 'probabilities' });
  const sum = new CompensatedSum();
  for (let i = 0; i < rows; i++) {
    const error = probabilities[i] - labels[i];
    sum.add(error * error);
  }
  return sum.value / rows;
}

/**
 * Probabilities are clipped to [1e-15, 1 − 1e-15] (scikit-learn's long-standing eps) so that a single
 * confident mistake costs about 34.5 nats instead of making the whole log loss infinite.
 */
const logLossClip = 1e-15;

/** Mean negative log-likelihood (natural log) of the outcomes under the predicted probabilities. */
export function logLoss(labels: BinaryLabels, probabilities: NumberArray): number {
  const { rows } = checkBinaryInputs(labels, probabilities, { probabilities: true, scoresName: 'probabilities' });
  const sum = new CompensatedSum();
  for (let i = 0; i < rows; i++) {
    const p = Math.min(Math.max(probabilities[i], logLossClip), 1 - logLossClip);
    sum.add(labels[i] === 1 ? -Math.log(p) : -Math.log1p(-p));
  }
  return sum.value / rows;
}

/**
 * 'uniform': bins of equal width over [0, 1]. 'quantile': bins of (about) equal row counts, which stay
 * informative when most probabilities crowd into a narrow range, as churn probabilities often do.
 */
export type BinningStrategy = 'uniform' | 'quantile';

export interface CalibrationBinning {
  /** Default 10. */
  bins?: number;
  /** Default 'uniform'. */
  strategy?: BinningStrategy;
}

export interface ReliabilityBin {
  /**
   * 'uniform': the bin's edges, [lower, upper), with 1 in the last bin. 'quantile': the smallest and the
   * largest probability in the bin.
   */
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/**
 * Per bin of predicted probability: how many rows, their mean prediction, and how often they were
 * positive. Empty bins are left out.
 */
export function reliabilityTable(labels: BinaryLabels, probabilities: NumberArray, binning: CalibrationBinning = {}): ReliabilityBin[] {
  const bins = binning.bins ?? 10;
  const strategy = binning.strategy ?? 'uniform';
  if (!Number.isSafeInteger(bins) || bins < 1) {
    throw new ValidationError(`bins must be a positive integer (got ${bins})`, 'bins');
  }
  if (strategy !== 'uniform' && strategy !== 'quantile') {
    throw new ValidationError(`strategy must be 'uniform' or 'quantile' (got ${String(strategy)})`, 'strategy');
  }
  const { rows } = checkBinaryInputs(labels, probabilities, { probabilities: true, scoresName: 'probabilities' });
  const binOf = strategy === 'uniform' ? uniformBins(probabilities, bins) : quantileBins(probabilities, bins);

  const counts = new Float64Array(bins);
  const positives = new Float64Array(bins);
  const predicted = Array.from({ length: bins }, () => new CompensatedSum());
  const lowest = new Float64Array(bins).fill(Infinity);
  const highest = new Float64Array(bins).fill(-Infinity);
  for (let i = 0; i < rows; i++) {
    const bin = binOf[i];
    const p = probabilities[i];
    counts[bin]++;
    positives[bin] += labels[i];
    predicted[bin].add(p);
    if (p < lowest[bin]) lowest[bin] = p;
    if (p > highest[bin]) highest[bin] = p;
  }

  const table: ReliabilityBin[] = [];
  for (let bin = 0; bin < bins; bin++) {
    const count = counts[bin];
    if (count === 0) continue;
    table.push({
      lower: strategy === 'uniform' ? bin / bins : lowest[bin],
      upper: strategy === 'uniform' ? (bin + 1) / bins : highest[bin],
      count,
      meanPredicted: predicted[bin].value / count,
      observedRate: positives[bin] / count,
    });
  }
  return table;
}

function uniformBins(probabilities: NumberArray, bins: number): Uint32Array {
  const binOf = new Uint32Array(probabilities.length);
  for (let i = 0; i < binOf.length; i++) binOf[i] = Math.min(Math.floor(probabilities[i] * bins), bins - 1);
  return binOf;
}

/**
 * Rows sorted by probability and cut by rank into runs of about rows/bins (scikit-learn's
 * calibration_curve cuts at interpolated percentiles instead, so a row at a cut may land one bin over).
 * Tied rows never straddle a cut, where input order would decide their bin, so a bin may hold more than
 * its share and a later one none.
 */
function quantileBins(probabilities: NumberArray, bins: number): Uint32Array {
  const ascending = orderDescending(probabilities).reverse();
  const binOf = new Uint32Array(probabilities.length);
  for (let start = 0; start < ascending.length;) {
    const end = tieGroupEnd(probabilities, ascending, start);
    const bin = Math.floor((start * bins) / ascending.length);
    for (let i = start; i < end; i++) binOf[ascending[i]] = bin;
    start = end;
  }
  return binOf;
}

/**
 * Expected calibration error: the mean, weighted by bin size, of |mean predicted − observed rate| over
 * the reliability table's bins. 0 for a perfectly calibrated model (up to sampling noise, which grows as
 * bins shrink).
 */
export function expectedCalibrationError(labels: BinaryLabels, probabilities: NumberArray, binning: CalibrationBinning = {}): number {
  const table = reliabilityTable(labels, probabilities, binning);
  let weightedGap = 0;
  for (const bin of table) weightedGap += bin.count * Math.abs(bin.meanPredicted - bin.observedRate);
  return weightedGap / labels.length;
}

export interface TopFractionResult {
  /** E.g. 0.1 for the top 10% of rows by score. */
  fraction: number;
  rows: number;
  /** Positives among those rows; fractional when a tie group straddles the cut (counted pro rata). */
  positives: number;
  positiveRate: number;
  /** positiveRate ÷ base rate: 1 is no better than picking at random, 3 finds three times as many. */
  lift: number;
  /** The share of all positives that fall in these rows. */
  capture: number;
}

/** Lift and capture among the highest-scored rows, for each fraction (default: top 10% and 20%). */
export function liftAndCapture(
  labels: BinaryLabels,
  scores: NumberArray,
  fractions: readonly number[] = defaultTopFractions,
): TopFractionResult[] {
  requireFractions(fractions, 'fractions');
  return liftAndCaptureOfRanked(rankRows(labels, scores, { probabilities: false, scoresName: 'scores' }), fractions);
}

function liftAndCaptureOfRanked(ranked: RankedRows, fractions: readonly number[]): TopFractionResult[] {
  requirePositives(ranked, 'lift');
  const baseRate = ranked.positives / ranked.rows;
  return fractions.map((fraction) => {
    const rows = rowsInTop(fraction, ranked.rows);
    const positives = sumOverTop(ranked.scores, ranked.order, rows, (row) => ranked.labels[row]);
    const positiveRate = positives / rows;
    return { fraction, rows, positives, positiveRate, lift: positiveRate / baseRate, capture: positives / ranked.positives };
  });
}

export interface ClassificationMetrics {
  rows: number;
  positives: number;
  baseRate: number;
  rocAuc: number;
  averagePrecision: number;
  brierScore: number;
  logLoss: number;
  expectedCalibrationError: number;
  topFractions: TopFractionResult[];
}

export interface ClassifierEvaluationOptions {
  binning?: CalibrationBinning;
  topFractions?: readonly number[];
}

/** Every classification metric of one model's probabilities, sorting the rows once for all ranking metrics. */
export function evaluateClassifier(
  labels: BinaryLabels,
  probabilities: NumberArray,
  options: ClassifierEvaluationOptions = {},
): ClassificationMetrics {
  const fractions = options.topFractions ?? defaultTopFractions;
  requireFractions(fractions, 'topFractions');
  const ranked = rankRows(labels, probabilities, { probabilities: true, scoresName: 'probabilities' });
  return {
    rows: ranked.rows,
    positives: ranked.positives,
    baseRate: ranked.positives / ranked.rows,
    rocAuc: rocAucOfRanked(ranked),
    averagePrecision: averagePrecisionOfRanked(ranked),
    brierScore: brierScore(labels, probabilities),
    logLoss: logLoss(labels, probabilities),
    expectedCalibrationError: expectedCalibrationError(labels, probabilities, options.binning),
    topFractions: liftAndCaptureOfRanked(ranked, fractions),
  };
}
