/**
 * The seeded split of training rows into the rows boosted on and the rows that decide when boosting stops.
 * Seeded so that the same data and parameters give the same model on every run.
 */
import { mulberry32 } from '../../lib/random';

export interface RowSplit {
  fitting: Uint32Array;
  validation: Uint32Array;
}

/** Each row goes to validation with probability `fraction`; at least one row stays on each side. */
export function splitRows(nrow: number, fraction: number, seed: number): RowSplit {
  const next = mulberry32(seed);
  const fitting: number[] = [];
  const validation: number[] = [];
  for (let row = 0; row < nrow; row++) (next() < fraction ? validation : fitting).push(row);
  if (validation.length === 0) validation.push(fitting.pop()!);
  if (fitting.length === 0) fitting.push(validation.pop()!);
  return { fitting: Uint32Array.from(fitting), validation: Uint32Array.from(validation) };
}

/** The given rows of a row-major matrix, in the given order. */
export function takeRows(X: Float32Array, ncol: number, rows: Uint32Array): Float32Array {
  const taken = new Float32Array(rows.length * ncol);
  for (let i = 0; i < rows.length; i++) taken.set(X.subarray(rows[i] * ncol, (rows[i] + 1) * ncol), i * ncol);
  return taken;
}

export function takeValues(values: Float32Array, rows: Uint32Array): Float32Array {
  const taken = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) taken[i] = values[rows[i]];
  return taken;
}
