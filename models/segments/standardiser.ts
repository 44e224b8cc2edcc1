/**
 * Turns chosen columns of a FeatureMatrix into z-scores with statistics learned in fit: log1p on heavy-tailed
 * columns, missing values imputed by the learned median, then centred and scaled by the learned mean and
 * standard deviation. Shared by the k-means clusters and the behaviour embedding so both see customers alike.
 */
import { z } from 'zod';
import { NotFittedError, ValidationError } from '../../lib/errors';
import { envelopeFormat, type Envelope, type Estimator } from '../estimator';
import { assertFeatureMatrix, columnIndex } from './feature-matrix';
import type { FeatureMatrix } from './types';

const STANDARDISER_JSON = envelopeFormat('foresight.standardiser', 1, {
  columns: z.array(z.string().min(1)).min(1),
  logged: z.array(z.boolean()),
  medians: z.array(z.number().finite()),
  means: z.array(z.number().finite()),
  stds: z.array(z.number().finite().positive()),
});

/** What fit() learns, per column in `columns`' order. */
export interface StandardiserState {
  columns: string[];
  logged: boolean[];
  medians: number[];
  means: number[];
  stds: number[];
}

export interface StandardiserJSON extends Envelope<typeof STANDARDISER_JSON.format, typeof STANDARDISER_JSON.version>, StandardiserState {}

export class Standardiser implements Estimator<[FeatureMatrix], StandardiserJSON> {
  readonly columns: readonly string[];
  readonly logColumns: readonly string[];
  #state: StandardiserState | undefined;

  /** `logColumns` that are not among `columns` are ignored, so the defaults work with any column choice. */
  constructor(columns: readonly string[], logColumns: readonly string[]) {
    if (columns.length === 0) throw new ValidationError('at least one column is needed', 'columns');
    if (new Set(columns).size !== columns.length) throw new ValidationError('columns must not repeat', 'columns');
    this.columns = [...columns];
    this.logColumns = [...logColumns];
  }

  fit(matrix: FeatureMatrix): this {
    assertFeatureMatrix(matrix);
    if (matrix.nrow === 0) throw new ValidationError('cannot learn feature statistics from an empty matrix', 'nrow');
    const state: StandardiserState = { columns: [...this.columns], logged: [], medians: [], means: [], stds: [] };
    for (const column of this.columns) {
      const j = columnIndex(matrix, column);
      const logged = this.logColumns.includes(column);
      const values = new Float64Array(matrix.nrow);
      for (let i = 0; i < matrix.nrow; i++) values[i] = scale(matrix.X[i * matrix.ncol + j], logged);
      const median = medianOfPresent(values, column);
      let sum = 0;
      for (let i = 0; i < values.length; i++) {
        if (Number.isNaN(values[i])) values[i] = median;
        sum += values[i];
      }
      const mean = sum / values.length;
      if (!Number.isFinite(mean)) throw new ValidationError(`column "${column}" has infinite values`, column);
      let squares = 0;
      for (const v of values) squares += (v - mean) ** 2;
      const std = Math.sqrt(squares / values.length);
      state.logged.push(logged);
      state.medians.push(median);
      state.means.push(mean);
      // A constant column carries no information; scaling it by 1 keeps it at 0 instead of dividing by 0.
      state.stds.push(std > 1e-12 ? std : 1);
    }
    this.#state = state;
    return this;
  }

  static fromJSON(json: unknown): Standardiser {
    const { columns, logged, medians, means, stds } = STANDARDISER_JSON.parse(json);
    const state: StandardiserState = { columns, logged, medians, means, stds };
    const d = columns.length;
    if ([state.logged, state.medians, state.means, state.stds].some((a) => a.length !== d)) {
      throw new ValidationError('saved standardiser has arrays of different lengths', 'columns');
    }
    const standardiser = new Standardiser(
      columns,
      columns.filter((_, j) => logged[j]),
    );
    standardiser.#state = state;
    return standardiser;
  }

  /** What fit() learned. */
  get state(): StandardiserState {
    if (this.#state === undefined) throw new NotFittedError('Standardiser');
    return this.#state;
  }

  get dimensions(): number {
    return this.columns.length;
  }

  /** Row-major nrow × dimensions z-scores. */
  transform(matrix: FeatureMatrix): Float64Array {
    assertFeatureMatrix(matrix);
    const { columns, logged, medians, means, stds } = this.state;
    const d = columns.length;
    const source = columns.map((column) => columnIndex(matrix, column));
    const out = new Float64Array(matrix.nrow * d);
    for (let i = 0; i < matrix.nrow; i++) {
      for (let j = 0; j < d; j++) {
        const v = scale(matrix.X[i * matrix.ncol + source[j]], logged[j]);
        out[i * d + j] = ((Number.isNaN(v) ? medians[j] : v) - means[j]) / stds[j];
      }
    }
    return out;
  }

  /** z-scores back to the (log1p where logged) feature scale, to compare points standardised differently. */
  toFeatureScale(point: readonly number[]): number[] {
    return point.map((z, j) => z * this.state.stds[j] + this.state.means[j]);
  }

  fromFeatureScale(point: readonly number[]): number[] {
    return point.map((v, j) => (v - this.state.means[j]) / this.state.stds[j]);
  }

  toJSON(): StandardiserJSON {
    return STANDARDISER_JSON.wrap(structuredClone(this.state));
  }
}

/** log1p of a negative count or amount (net refunds) is clamped at 0: it means "nothing", not less. */
function scale(value: number, logged: boolean): number {
  return logged ? Math.log1p(Math.max(value, 0)) : value;
}

function medianOfPresent(values: Float64Array, column: string): number {
  const present = values.filter((v) => !Number.isNaN(v)).sort();
  if (present.length === 0) throw new ValidationError(`column "${column}" has no non-missing values`, column);
  const mid = present.length >> 1;
  return present.length % 2 === 1 ? present[mid] : (present[mid - 1] + present[mid]) / 2;
}
