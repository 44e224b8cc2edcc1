/**
 * Platt scaling: calibrated probability = σ(slope·x + intercept). With input 'logit' (the default, for
 * scores that are already probabilities, as our models output) x is the score's logit, so slope 1 and
 * intercept 0 leave the scores unchanged and the fit only corrects over- or under-confidence and bias.
 * With input 'score', x is the raw score, e.g. a margin. Fitted as in Lin, Lin & Weng (2007), "A note on
 * Platt's probabilistic outputs for support vector machines": Newton's method with a backtracking line
 * search on the log loss against Platt's smoothed targets.
 */
import { z } from 'zod';
import { ModelError, NotFittedError, ValidationError } from '../../lib/errors';
import {
  checkBinaryInputs,
  requireProbabilities,
  requireFinite,
  requireWeights,
  type BinaryLabels,
  type NumberArray,
} from '../evaluation/inputs';
import { CompensatedSum } from '../evaluation/sum';
import { envelopeFormat, type Envelope, type Estimator } from '../estimator';

export type PlattInput = 'logit' | 'score';

export interface PlattOptions {
  /** Default 'logit'. */
  input?: PlattInput;
  /** Newton iterations before giving up with a ModelError; default 100 (it usually needs fewer than 10). */
  maxIterations?: number;
}

export interface PlattCoefficients {
  slope: number;
  intercept: number;
}

export interface PlattCalibratorJSON extends Envelope<typeof PLATT_JSON.format, typeof PLATT_JSON.version> {
  options: Required<PlattOptions>;
  coefficients: PlattCoefficients;
}

/**
 * Probabilities are clipped to [1e-15, 1 − 1e-15] before the logit, so that a score of exactly 0 or 1
 * becomes a large finite x (about ±34.5) rather than an infinity that would poison the fit.
 */
const logitClip = 1e-15;

/** Converged once the log loss's gradient per unit of weight is this small in both coefficients. */
const gradientTolerance = 1e-7;

/** Lin et al.'s ridge, which keeps the Hessian invertible when p(1 − p) underflows for every row. */
const hessianRidge = 1e-12;

/** Armijo's sufficient-decrease constant, and the step below which the line search gives up. */
const sufficientDecrease = 1e-4;
const smallestStep = 1e-10;

const inputChoices: readonly PlattInput[] = ['logit', 'score'];

export class PlattCalibrator implements Estimator<[NumberArray, BinaryLabels, NumberArray?], PlattCalibratorJSON> {
  readonly method = 'platt';
  readonly options: Readonly<Required<PlattOptions>>;
  private fitted: PlattCoefficients | null = null;

  constructor(options: PlattOptions = {}) {
    const input = options.input ?? 'logit';
    const maxIterations = options.maxIterations ?? 100;
    if (!inputChoices.includes(input)) {
      throw new ValidationError(`input must be one of ${inputChoices.join(', ')} (got ${String(input)})`, 'input');
    }
    if (!(Number.isSafeInteger(maxIterations) && maxIterations > 0)) {
      throw new ValidationError(`maxIterations must be a positive integer (got ${maxIterations})`, 'maxIterations');
    }
    this.options = { input, maxIterations };
  }

  /** Rows of weight 0 are ignored; `weights` default to 1 and count as repeated rows (also in the targets). */
  fit(scores: NumberArray, labels: BinaryLabels, weights?: NumberArray): this {
    const { rows } = checkBinaryInputs(labels, scores, { probabilities: this.options.input === 'logit' });
    if (weights !== undefined) requireWeights(weights, labels);
    const x = this.inputsOf(scores);
    const weightOf = (row: number): number => (weights === undefined ? 1 : weights[row]);

    let positiveWeight = 0;
    let negativeWeight = 0;
    let firstX: number | undefined;
    let xVaries = false;
    for (let row = 0; row < rows; row++) {
      const weight = weightOf(row);
      if (weight === 0) continue;
      if (labels[row] === 1) positiveWeight += weight;
      else negativeWeight += weight;
      firstX ??= x[row];
      if (x[row] !== firstX) xVaries = true;
    }
    if (!xVaries) {
      throw new ValidationError('scores are all equal, so Platt scaling has no slope to fit', 'scores');
    }
    // Platt's targets: 1/(N₋ + 2) and (N₊ + 1)/(N₊ + 2) in place of 0 and 1. They keep the optimum finite
    // when the classes are separable, and act as a prior that fades as the sample grows.
    const positiveTarget = (positiveWeight + 1) / (positiveWeight + 2);
    const negativeTarget = 1 / (negativeWeight + 2);
    const targets = new Float64Array(rows);
    for (let row = 0; row < rows; row++) targets[row] = labels[row] === 1 ? positiveTarget : negativeTarget;

    // Lin et al.'s start: slope 0 and the intercept of the smoothed base rate.
    const start = { slope: 0, intercept: Math.log((positiveWeight + 1) / (negativeWeight + 1)) };
    this.fitted = fitByNewton(x, targets, weightOf, start, positiveWeight + negativeWeight, this.options.maxIterations);
    return this;
  }

  predict(scores: NumberArray): Float64Array {
    const { slope, intercept } = this.coefficients;
    const x = this.inputsOf(scores);
    const calibrated = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) calibrated[i] = sigmoid(slope * x[i] + intercept);
    return calibrated;
  }

  get coefficients(): PlattCoefficients {
    if (this.fitted === null) throw new NotFittedError('PlattCalibrator');
    return { ...this.fitted };
  }

  toJSON(): PlattCalibratorJSON {
    return PLATT_JSON.wrap({ options: { ...this.options }, coefficients: this.coefficients });
  }

  static fromJSON(json: unknown): PlattCalibrator {
    const parsed = PLATT_JSON.parse(json);
    const calibrator = new PlattCalibrator(parsed.options);
    calibrator.fitted = parsed.coefficients;
    return calibrator;
  }

  private inputsOf(scores: NumberArray): Float64Array {
    const x = new Float64Array(scores.length);
    if (this.options.input === 'score') {
      requireFinite(scores, 'scores');
      x.set(scores);
    } else {
      requireProbabilities(scores, 'scores');
      for (let i = 0; i < x.length; i++) {
        const p = Math.min(Math.max(scores[i], logitClip), 1 - logitClip);
        x[i] = Math.log(p / (1 - p));
      }
    }
    return x;
  }
}

function fitByNewton(
  x: Float64Array,
  targets: Float64Array,
  weightOf: (row: number) => number,
  start: PlattCoefficients,
  totalWeight: number,
  maxIterations: number,
): PlattCoefficients {
  let { slope, intercept } = start;
  let loss = smoothedLogLoss(x, targets, weightOf, slope, intercept);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    let gradientSlope = 0;
    let gradientIntercept = 0;
    let hessianSlopeSlope = hessianRidge;
    let hessianSlopeIntercept = 0;
    let hessianInterceptIntercept = hessianRidge;
    for (let row = 0; row < x.length; row++) {
      const weight = weightOf(row);
      const p = sigmoid(slope * x[row] + intercept);
      const residual = weight * (p - targets[row]);
      const curvature = weight * p * (1 - p);
      gradientSlope += residual * x[row];
      gradientIntercept += residual;
      hessianSlopeSlope += curvature * x[row] * x[row];
      hessianSlopeIntercept += curvature * x[row];
      hessianInterceptIntercept += curvature;
    }
    if (Math.max(Math.abs(gradientSlope), Math.abs(gradientIntercept)) <= gradientTolerance * totalWeight) {
      return { slope, intercept };
    }
    // The Newton direction solves H·d = −g for the 2×2 Hessian.
    const determinant = hessianSlopeSlope * hessianInterceptIntercept - hessianSlopeIntercept * hessianSlopeIntercept;
    const stepSlope = -(hessianInterceptIntercept * gradientSlope - hessianSlopeIntercept * gradientIntercept) / determinant;
    const stepIntercept = -(hessianSlopeSlope * gradientIntercept - hessianSlopeIntercept * gradientSlope) / determinant;
    const slopeOfLoss = gradientSlope * stepSlope + gradientIntercept * stepIntercept;

    let accepted = false;
    for (let step = 1; step >= smallestStep; step /= 2) {
      const nextSlope = slope + step * stepSlope;
      const nextIntercept = intercept + step * stepIntercept;
      const nextLoss = smoothedLogLoss(x, targets, weightOf, nextSlope, nextIntercept);
      if (nextLoss <= loss + sufficientDecrease * step * slopeOfLoss) {
        slope = nextSlope;
        intercept = nextIntercept;
        loss = nextLoss;
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      throw new ModelError('Platt scaling stalled: no step along the Newton direction lowers the log loss', {
        iteration,
        slope,
        intercept,
      });
    }
  }
  throw new ModelError(`Platt scaling did not converge in ${maxIterations} Newton iterations`, { slope, intercept });
}

/** Σ weight·(softplus(z) − target·z), the log loss against soft targets, written to stay finite for any z. */
function smoothedLogLoss(
  x: Float64Array,
  targets: Float64Array,
  weightOf: (row: number) => number,
  slope: number,
  intercept: number,
): number {
  const sum = new CompensatedSum();
  for (let row = 0; row < x.length; row++) {
    const z = slope * x[row] + intercept;
    const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    sum.add(weightOf(row) * (softplus - targets[row] * z));
  }
  return sum.value;
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export const PLATT_JSON = envelopeFormat('foresight.platt-calibrator', 1, {
  options: z.object({ input: z.enum(['logit', 'score']), maxIterations: z.number().int().positive() }).strict(),
  coefficients: z.object({ slope: z.number().finite(), intercept: z.number().finite() }).strict(),
});
