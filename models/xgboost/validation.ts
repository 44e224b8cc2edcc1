/**
 * Input checks shared by the XGBoost binding. They run before any native call, because libxgboost
 * cannot tell a Float64Array from a Float32Array: it reads whatever bytes it is given as floats.
 */
import { ValidationError } from '../../lib/errors';

export function requireFloat32Array(value: unknown, parameter: string): Float32Array {
  if (value instanceof Float32Array) return value;
  const got = value === null ? 'null' : typeof value === 'object' ? value.constructor.name : typeof value;
  throw new ValidationError(`${parameter} must be a Float32Array (got ${got}); convert it with Float32Array.from(${parameter})`, parameter);
}

export function requirePositiveInteger(value: unknown, parameter: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  throw new ValidationError(`${parameter} must be a positive integer (got ${String(value)})`, parameter);
}

export function requireNonNegativeInteger(value: unknown, parameter: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new ValidationError(`${parameter} must be a non-negative integer (got ${String(value)})`, parameter);
}

export function requireLength(array: Float32Array, expected: number, parameter: string, meaning: string): void {
  if (array.length !== expected) {
    throw new ValidationError(`${parameter} has ${array.length} values but ${meaning} needs ${expected}`, parameter);
  }
}
