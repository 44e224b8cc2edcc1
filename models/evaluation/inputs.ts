/**
 * Checks on the arrays that metrics and calibrators read. They run before any arithmetic, so that a bad
 * input fails with the parameter's name and the offending row instead of surfacing as a NaN metric.
 */
import { ValidationError } from '../../lib/errors';

/** One 0/1 outcome per row; 1 is the positive class (e.g. the customer churned). */
export type BinaryLabels = Uint8Array | readonly number[];

/** One real number per row: a score, a probability, an amount of money or a weight. */
export type NumberArray = Float32Array | Float64Array | readonly number[];

export interface BinaryInputCounts {
  rows: number;
  positives: number;
}

/**
 * Checks labels and scores of a binary problem and counts the positives. With `probabilities`, every
 * score must also lie in [0, 1] (the metrics that need it: Brier score, log loss, calibration error).
 */
export function checkBinaryInputs(
  labels: BinaryLabels,
  scores: NumberArray,
  options: { probabilities: boolean; scoresName?: string },
): BinaryInputCounts {
  const scoresName = options.scoresName ?? 'scores';
  requireNonEmpty(labels, 'labels');
  requireSameLength(labels, 'labels', scores, scoresName);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label !== 0 && label !== 1) {
      throw new ValidationError(`labels[${i}] is ${label}; labels must be 0 or 1`, 'labels');
    }
    positives += label;
  }
  if (options.probabilities) requireProbabilities(scores, scoresName);
  else requireFinite(scores, scoresName);
  return { rows: labels.length, positives };
}

export function requireNonEmpty(values: ArrayLike<number>, parameter: string): void {
  if (values.length === 0) throw new ValidationError(`${parameter} is empty`, parameter);
}

export function requireSameLength(first: ArrayLike<number>, firstName: string, second: ArrayLike<number>, secondName: string): void {
  if (first.length !== second.length) {
    throw new ValidationError(
      `${secondName} has ${second.length} values but ${firstName} has ${first.length}; they must match row for row`,
      secondName,
    );
  }
}

export function requireFinite(values: NumberArray, parameter: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new ValidationError(`${parameter}[${i}] is ${values[i]}; it must be a finite number`, parameter);
    }
  }
}

export function requireProbabilities(values: NumberArray, parameter: string): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    // Written so that NaN fails too.
    if (!(value >= 0 && value <= 1)) {
      throw new ValidationError(`${parameter}[${i}] is ${value}; it must be a probability in [0, 1]`, parameter);
    }
  }
}

/** Fractions of rows such as 0.1 for "the top 10%". */
export function requireFractions(fractions: readonly number[], parameter: string): void {
  for (const fraction of fractions) {
    if (!(fraction > 0 && fraction <= 1)) {
      throw new ValidationError(`${parameter} contains ${fraction}; each must be in (0, 1]`, parameter);
    }
  }
}

/** Per-row weights: finite, non-negative, and not all zero (else nothing would be fitted). */
export function requireWeights(weights: NumberArray, labels: BinaryLabels): void {
  requireSameLength(labels, 'labels', weights, 'weights');
  let positive = false;
  for (let i = 0; i < weights.length; i++) {
    const weight = weights[i];
    if (!(Number.isFinite(weight) && weight >= 0)) {
      throw new ValidationError(`weights[${i}] is ${weight}; weights must be finite and non-negative`, 'weights');
    }
    if (weight > 0) positive = true;
  }
  if (!positive) throw new ValidationError('weights are all zero', 'weights');
}
