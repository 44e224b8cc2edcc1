import { ValidationError } from '../lib/errors';
import { parseInstant } from '../lib/instant';

/**
 * Parsing of command-line option values: each returns the value or throws a ValidationError whose field is `name`.
 * The messages are kept as each command has always printed them (`generate` names its options without dashes).
 */

const DIGITS = /^\d+$/;

/** A whole number from 0 (digits only: no sign, decimal point or exponent). */
export function wholeNumberOption(value: string, name: string): number {
  if (!DIGITS.test(value)) throw new ValidationError(`${name} must be a whole number, got "${value}"`, name);
  return Number(value);
}

/** A whole number from 1; `name` is the option without its leading dashes. */
export function positiveWholeNumberOption(value: string, name: string): number {
  if (!DIGITS.test(value) || Number(value) <= 0)
    throw new ValidationError(`--${name} must be a positive whole number, got "${value}"`, name);
  return Number(value);
}

/** An ISO 8601 date or time (lib/instant.ts); `option` is the option as written, e.g. `--as-of`. */
export function dateOption(value: string, option: string): Date {
  return parseInstant(value, option);
}
