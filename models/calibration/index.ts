/**
 * Probability calibrators by name, so that a model's configuration can say `calibration: 'isotonic'` and
 * a stored calibrator can be read back without knowing its class in advance.
 */
import { ValidationError } from '../../lib/errors';
import { ISOTONIC_JSON, IsotonicCalibrator, type IsotonicCalibratorJSON, type IsotonicOptions } from './isotonic';
import { PLATT_JSON, PlattCalibrator, type PlattCalibratorJSON, type PlattOptions } from './platt';

export { IsotonicCalibrator, PlattCalibrator };
export type { IsotonicCalibratorJSON, IsotonicOptions, PlattCalibratorJSON, PlattOptions };

export type Calibrator = IsotonicCalibrator | PlattCalibrator;
export type CalibratorJSON = IsotonicCalibratorJSON | PlattCalibratorJSON;
export type CalibrationMethod = Calibrator['method'];

export const calibrationMethods: readonly CalibrationMethod[] = ['isotonic', 'platt'];

export function createCalibrator(method: 'isotonic', options?: IsotonicOptions): IsotonicCalibrator;
export function createCalibrator(method: 'platt', options?: PlattOptions): PlattCalibrator;
/** For a method name read from configuration; an unknown name is a ValidationError. */
export function createCalibrator(method: string): Calibrator;
export function createCalibrator(method: string, options?: IsotonicOptions & PlattOptions): Calibrator {
  if (method === 'isotonic') return new IsotonicCalibrator(options);
  if (method === 'platt') return new PlattCalibrator(options);
  throw new ValidationError(`Unknown calibration method "${method}"; expected one of ${calibrationMethods.join(', ')}`, 'method');
}

/** The inverse of any calibrator's toJSON(), dispatching on its envelope's `format`. */
export function calibratorFromJSON(json: unknown): Calibrator {
  const format = typeof json === 'object' && json !== null && 'format' in json ? json.format : undefined;
  if (format === ISOTONIC_JSON.format) return IsotonicCalibrator.fromJSON(json);
  if (format === PLATT_JSON.format) return PlattCalibrator.fromJSON(json);
  throw new ValidationError(
    `Invalid calibrator: format is ${JSON.stringify(format)}; expected ${ISOTONIC_JSON.format} or ${PLATT_JSON.format}`,
    'format',
  );
}
