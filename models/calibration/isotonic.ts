/**
 * Isotonic calibration: the non-decreasing function of the score that best fits the outcomes in weighted
 * least squares, found by pool-adjacent-violators and read with linear interpolation between its
 * thresholds. It follows scikit-learn's IsotonicRegression: rows with tied scores are pooled into one
 * point before fitting, fitted values are clipped to [yMin, yMax], only the two ends of each flat run are
 * kept as thresholds, and `outOfBounds` decides what predict() does with scores outside the fitted range.
 * Unlike scikit-learn it is always increasing: a higher score must never mean a lower probability.
 */
import { z } from 'zod';
import { NotFittedError, ValidationError } from '../../lib/errors';
import { checkBinaryInputs, requireFinite, requireWeights, type BinaryLabels, type NumberArray } from '../evaluation/inputs';
import { orderDescending, tieGroupEnd } from '../evaluation/ranking';
import { envelopeFormat, type Envelope, type Estimator } from '../estimator';

/** For scores outside the fitted range: 'clip' gives the nearest end's value, 'nan' NaN, 'raise' a ValidationError. */
export type OutOfBounds = 'clip' | 'nan' | 'raise';

export interface IsotonicOptions {
  /** Default 0. */
  yMin?: number;
  /** Default 1. */
  yMax?: number;
  /** Default 'clip'. */
  outOfBounds?: OutOfBounds;
}

/** The fitted function's knots: scores strictly increasing, values non-decreasing. */
export interface IsotonicThresholds {
  scores: number[];
  values: number[];
}

export interface IsotonicCalibratorJSON extends Envelope<typeof ISOTONIC_JSON.format, typeof ISOTONIC_JSON.version> {
  options: Required<IsotonicOptions>;
  thresholds: IsotonicThresholds;
}

const outOfBoundsChoices: readonly OutOfBounds[] = ['clip', 'nan', 'raise'];

export class IsotonicCalibrator implements Estimator<[NumberArray, BinaryLabels, NumberArray?], IsotonicCalibratorJSON> {
  readonly method = 'isotonic';
  readonly options: Readonly<Required<IsotonicOptions>>;
  private fitted: IsotonicThresholds | null = null;

  constructor(options: IsotonicOptions = {}) {
    const yMin = options.yMin ?? 0;
    const yMax = options.yMax ?? 1;
    const outOfBounds = options.outOfBounds ?? 'clip';
    if (!Number.isFinite(yMin)) throw new ValidationError(`yMin must be a finite number (got ${yMin})`, 'yMin');
    if (!(Number.isFinite(yMax) && yMax >= yMin)) {
      throw new ValidationError(`yMax must be a finite number no less than yMin ${yMin} (got ${yMax})`, 'yMax');
    }
    if (!outOfBoundsChoices.includes(outOfBounds)) {
      throw new ValidationError(`outOfBounds must be one of ${outOfBoundsChoices.join(', ')} (got ${String(outOfBounds)})`, 'outOfBounds');
    }
    this.options = { yMin, yMax, outOfBounds };
  }

  /** Rows of weight 0 are ignored; `weights` default to 1. */
  fit(scores: NumberArray, labels: BinaryLabels, weights?: NumberArray): this {
    const { rows } = checkBinaryInputs(labels, scores, { probabilities: false });
    if (weights !== undefined) requireWeights(weights, labels);
    const ascending = orderDescending(scores).reverse();
    const pointScores: number[] = [];
    const pointRates: number[] = [];
    const pointWeights: number[] = [];
    for (let start = 0; start < rows;) {
      const end = tieGroupEnd(scores, ascending, start);
      let weight = 0;
      let positiveWeight = 0;
      for (let i = start; i < end; i++) {
        const row = ascending[i];
        const rowWeight = weights === undefined ? 1 : weights[row];
        weight += rowWeight;
        positiveWeight += rowWeight * labels[row];
      }
      if (weight > 0) {
        pointScores.push(scores[ascending[start]]);
        pointRates.push(positiveWeight / weight);
        pointWeights.push(weight);
      }
      start = end;
    }
    const { yMin, yMax } = this.options;
    const values = poolAdjacentViolators(pointRates, pointWeights).map((value) => Math.min(Math.max(value, yMin), yMax));
    this.fitted = keepRunEnds(pointScores, values);
    return this;
  }

  predict(scores: NumberArray): Float64Array {
    const thresholds = this.requireFitted();
    requireFinite(scores, 'scores');
    const knots = thresholds.scores;
    const values = thresholds.values;
    const lowest = knots[0];
    const highest = knots[knots.length - 1];
    const calibrated = new Float64Array(scores.length);
    for (let i = 0; i < scores.length; i++) {
      const score = scores[i];
      if (score >= lowest && score <= highest) {
        calibrated[i] = interpolate(knots, values, score);
      } else if (this.options.outOfBounds === 'clip') {
        calibrated[i] = score < lowest ? values[0] : values[values.length - 1];
      } else if (this.options.outOfBounds === 'nan') {
        calibrated[i] = NaN;
      } else {
        throw new ValidationError(
          `scores[${i}] is ${score}, outside the fitted range [${lowest}, ${highest}] (outOfBounds is 'raise')`,
          'scores',
        );
      }
    }
    return calibrated;
  }

  /** A copy of the fitted knots. */
  get thresholds(): IsotonicThresholds {
    const { scores, values } = this.requireFitted();
    return { scores: [...scores], values: [...values] };
  }

  toJSON(): IsotonicCalibratorJSON {
    return ISOTONIC_JSON.wrap({ options: { ...this.options }, thresholds: this.thresholds });
  }

  static fromJSON(json: unknown): IsotonicCalibrator {
    const parsed = ISOTONIC_JSON.parse(json);
    const calibrator = new IsotonicCalibrator(parsed.options);
    calibrator.fitted = parsed.thresholds;
    return calibrator;
  }

  private requireFitted(): IsotonicThresholds {
    if (this.fitted === null) throw new NotFittedError('IsotonicCalibrator');
    return this.fitted;
  }
}

/**
 * The weighted least-squares non-decreasing fit to `values`: walk left to right keeping a stack of pooled
 * blocks, and merge the newest block into the one before it while that one's mean is higher. Each point
 * is merged at most once, so this is O(n).
 */
function poolAdjacentViolators(values: readonly number[], weights: readonly number[]): number[] {
  const blockMeans = new Float64Array(values.length);
  const blockWeights = new Float64Array(values.length);
  const blockSizes = new Uint32Array(values.length);
  let blocks = 0;
  for (let i = 0; i < values.length; i++) {
    let mean = values[i];
    let weight = weights[i];
    let size = 1;
    while (blocks > 0 && blockMeans[blocks - 1] > mean) {
      blocks--;
      const pooledWeight = blockWeights[blocks] + weight;
      mean = (blockMeans[blocks] * blockWeights[blocks] + mean * weight) / pooledWeight;
      weight = pooledWeight;
      size += blockSizes[blocks];
    }
    blockMeans[blocks] = mean;
    blockWeights[blocks] = weight;
    blockSizes[blocks] = size;
    blocks++;
  }
  const fitted: number[] = [];
  for (let block = 0; block < blocks; block++) {
    for (let k = 0; k < blockSizes[block]; k++) fitted.push(blockMeans[block]);
  }
  return fitted;
}

/** Interpolation needs only the two ends of each flat run, so the points inside one are dropped. */
function keepRunEnds(scores: readonly number[], values: readonly number[]): IsotonicThresholds {
  const kept: IsotonicThresholds = { scores: [], values: [] };
  const last = values.length - 1;
  for (let i = 0; i <= last; i++) {
    if (i === 0 || i === last || values[i] !== values[i - 1] || values[i] !== values[i + 1]) {
      kept.scores.push(scores[i]);
      kept.values.push(values[i]);
    }
  }
  return kept;
}

/** Linear interpolation at `score`, which lies within [knots[0], knots[last]]. */
function interpolate(knots: readonly number[], values: readonly number[], score: number): number {
  // The last knot at or below `score`, by binary search.
  let low = 0;
  let high = knots.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (knots[middle] <= score) low = middle;
    else high = middle - 1;
  }
  if (knots[low] === score) return values[low];
  const share = (score - knots[low]) / (knots[low + 1] - knots[low]);
  return values[low] + share * (values[low + 1] - values[low]);
}

export const ISOTONIC_JSON = envelopeFormat('foresight.isotonic-calibrator', 1, {
  options: z.object({ yMin: z.number().finite(), yMax: z.number().finite(), outOfBounds: z.enum(['clip', 'nan', 'raise']) }).strict(),
  thresholds: z
    .object({ scores: z.array(z.number().finite()).min(1), values: z.array(z.number().finite()).min(1) })
    .strict()
    .refine((t) => t.values.length === t.scores.length, { message: 'needs one value per score', path: ['values'] })
    .refine((t) => t.scores.every((score, i) => i === 0 || score > t.scores[i - 1]), {
      message: 'must be strictly increasing',
      path: ['scores'],
    })
    .refine((t) => t.values.every((value, i) => i === 0 || value >= t.values[i - 1]), {
      message: 'must be non-decreasing',
      path: ['values'],
    }),
});
