/**
 * Probability calibrators by name, so that a model's configuration can say `calibration: 'isotonic'` and
 * a stored calibrator can be read back without knowing its class in advance.
 */
import { ValidationError } from '../../lib/errors';
import { IsotonicCalibrator, type IsotonicCalibratorJSON, type IsotonicOptions } from './isotonic';
import { PlattCalibrator, type PlattCalibratorJSON, type PlattOptions } from './platt';

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

/** The inverse of any calibrator's toJSON(), dispatching on its `method`. */
export function calibratorFromJSON(json: unknown): Calibrator {
  const method = typeof json === 'object' && json !== null && 'method' in json ? json.method : undefined;
  if (method === 'isotonic') return IsotonicCalibrator.fromJSON(json);
  if (method === 'platt') return PlattCalibrator.fromJSON(json);
  throw new ValidationError(
    `Invalid calibrator: method is ${JSON.stringify(method)}; expected one of ${calibrationMethods.join(', ')}`,
    'method',
  );
}
