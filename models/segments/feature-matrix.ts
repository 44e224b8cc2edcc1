/** Shape checks and column access for FeatureMatrix, so every model reports bad input the same way. */
import { ValidationError } from '../../lib/errors';
import type { FeatureMatrix } from './types';

export function assertFeatureMatrix(matrix: FeatureMatrix): void {
  const { customerIds, featureNames, X, nrow, ncol } = matrix;
  if (!(X instanceof Float32Array)) throw new ValidationError('X must be a Float32Array', 'X');
  if (!Number.isSafeInteger(nrow) || nrow < 0) throw new ValidationError(`nrow must be a non-negative integer (got ${nrow})`, 'nrow');
  if (!Number.isSafeInteger(ncol) || ncol < 0) throw new ValidationError(`ncol must be a non-negative integer (got ${ncol})`, 'ncol');
  if (X.length !== nrow * ncol) {
    throw new ValidationError(`X has ${X.length} values but nrow × ncol is ${nrow * ncol}`, 'X');
  }
  if (customerIds.length !== nrow) {
    throw new ValidationError(`customerIds has ${customerIds.length} entries but nrow is ${nrow}`, 'customerIds');
  }
  if (featureNames.length !== ncol) {
    throw new ValidationError(`featureNames has ${featureNames.length} entries but ncol is ${ncol}`, 'featureNames');
  }
}

/** Index of a named column; a missing column is the caller's mistake, named in the error. */
export function columnIndex(matrix: FeatureMatrix, name: string): number {
  const index = matrix.featureNames.indexOf(name);
  if (index < 0) {
    throw new ValidationError(`feature matrix has no column "${name}"`, name, { featureNames: matrix.featureNames });
  }
  return index;
}

/** One column copied out of the row-major matrix (NaN kept). */
export function columnValues(matrix: FeatureMatrix, name: string): Float32Array {
  const j = columnIndex(matrix, name);
  const values = new Float32Array(matrix.nrow);
  for (let i = 0; i < matrix.nrow; i++) values[i] = matrix.X[i * matrix.ncol + j];
  return values;
}
