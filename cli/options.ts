import { ValidationError } from '../lib/errors';

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

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An ISO 8601 date or time (`2026-07-01`, `2026-07-01T12:00:00Z`; a date alone is midnight UTC); `option` is the
 * option as written, e.g. `--as-of`. Loose forms that `new Date()` would guess at (`"1"` as 2001) and impossible
 * calendar dates (`2026-02-30`, which it rolls into March) are refused.
 */
export function dateOption(value: string, option: string): Date {
  const match = ISO_TIME.exec(value.trim());
  const d = new Date(value.trim());
  if (!match || Number.isNaN(d.getTime()))
    throw new ValidationError(`${option}: not an ISO date or time (YYYY-MM-DD[THH:MM[:SS]][Z|±HH:MM]): ${value}`, option);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day)
    throw new ValidationError(`${option}: no such calendar date: ${value}`, option);
  return d;
}
