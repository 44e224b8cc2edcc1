/**
 * Metrics of a regression model of money, e.g. customer lifetime value over the next 12 months.
 * Arguments come in scikit-learn's order: actual values first, then predictions. Totals go through a
 * compensated sum because a million amounts of very different sizes lose cents to plain addition.
 */
import { ValidationError } from '../../lib/errors';
import { requireFinite, requireFractions, requireNonEmpty, requireSameLength, type NumberArray } from './inputs';
import { averageRanks, orderDescending, rowsInTop, sumOverTop } from './ranking';
import { CompensatedSum, compensatedSum } from './sum';

function checkRegressionInputs(actual: NumberArray, predicted: NumberArray): number {
  requireNonEmpty(actual, 'actual');
  requireSameLength(actual, 'actual', predicted, 'predicted');
  requireFinite(actual, 'actual');
  requireFinite(predicted, 'predicted');
  return actual.length;
}

export function meanAbsoluteError(actual: NumberArray, predicted: NumberArray): number {
  const rows = checkRegressionInputs(actual, predicted);
  const sum = new CompensatedSum();
  for (let i = 0; i < rows; i++) sum.add(Math.abs(predicted[i] - actual[i]));
  return sum.value / rows;
}

export function rootMeanSquaredError(actual: NumberArray, predicted: NumberArray): number {
  const rows = checkRegressionInputs(actual, predicted);
  const sum = new CompensatedSum();
  for (let i = 0; i < rows; i++) {
    const error = predicted[i] - actual[i];
    sum.add(error * error);
  }
  return Math.sqrt(sum.value / rows);
}

/**
 * Spearman's rank correlation: Pearson's correlation of the average ranks (ties share the mean of their
 * ranks, as in scipy.stats.spearmanr). Undefined, and so rejected, when either side is constant.
 */
export function spearmanCorrelation(actual: NumberArray, predicted: NumberArray): number {
  const rows = checkRegressionInputs(actual, predicted);
  const actualRanks = averageRanks(actual);
  const predictedRanks = averageRanks(predicted);
  // Average ranks always sum to n(n + 1)/2, so both means are exactly (n + 1)/2.
  const meanRank = (rows + 1) / 2;
  const covariance = new CompensatedSum();
  const actualSpread = new CompensatedSum();
  const predictedSpread = new CompensatedSum();
  for (let i = 0; i < rows; i++) {
    const a = actualRanks[i] - meanRank;
    const p = predictedRanks[i] - meanRank;
    covariance.add(a * p);
    actualSpread.add(a * a);
    predictedSpread.add(p * p);
  }
  if (actualSpread.value === 0) {
    throw new ValidationError('actual values are all equal, so their rank correlation is undefined', 'actual');
  }
  if (predictedSpread.value === 0) {
    throw new ValidationError('predicted values are all equal, so their rank correlation is undefined', 'predicted');
  }
  return covariance.value / Math.sqrt(actualSpread.value * predictedSpread.value);
}

function positiveTotal(actual: NumberArray, metric: string): number {
  const total = compensatedSum(actual);
  if (!(total > 0)) {
    throw new ValidationError(`actual values total ${total}; ${metric} needs a positive total`, 'actual');
  }
  return total;
}

/**
 * The share of all actual value held by the top `fraction` of rows by prediction (default 0.1, the top
 * decile): how much of next year's revenue a campaign aimed at the predicted best customers would reach.
 * Predictions tied at the cut contribute pro rata.
 */
export function valueCaptureInTop(actual: NumberArray, predicted: NumberArray, fraction = 0.1): number {
  requireFractions([fraction], 'fraction');
  const rows = checkRegressionInputs(actual, predicted);
  const total = positiveTotal(actual, 'value capture');
  const top = sumOverTop(predicted, orderDescending(predicted), rowsInTop(fraction, rows), (row) => actual[row]);
  return top / total;
}

/** Total predicted ÷ total actual: 1 when the model gets the overall amount right, whatever the ranking. */
export function predictedToActualRatio(actual: NumberArray, predicted: NumberArray): number {
  checkRegressionInputs(actual, predicted);
  return compensatedSum(predicted) / positiveTotal(actual, 'the predicted-to-actual ratio');
}

export interface RegressionMetrics {
  rows: number;
  meanAbsoluteError: number;
  rootMeanSquaredError: number;
  spearman: number;
  /** valueCaptureInTop with fraction 0.1. */
  topDecileCapture: number;
  predictedToActual: number;
}

export function evaluateRegressor(actual: NumberArray, predicted: NumberArray): RegressionMetrics {
  return {
    rows: checkRegressionInputs(actual, predicted),
    meanAbsoluteError: meanAbsoluteError(actual, predicted),
    rootMeanSquaredError: rootMeanSquaredError(actual, predicted),
    spearman: spearmanCorrelation(actual, predicted),
    topDecileCapture: valueCaptureInTop(actual, predicted, 0.1),
    predictedToActual: predictedToActualRatio(actual, predicted),
  };
}
