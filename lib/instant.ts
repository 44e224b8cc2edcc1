import { ValidationError } from './errors';

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An ISO 8601 date or time (`2026-07-01`, `2026-07-01T12:00:00Z`; a date alone is midnight UTC); `field` names the
 * option or parameter in the error. Loose forms that `new Date()` would guess at (`"1"` as 2001) and impossible
 * calendar dates (`2026-02-30`, which it rolls into March) are refused.
 */
export function parseInstant(value: string, field: string): Date {
  const match = ISO_TIME.exec(value.trim());
  const d = new Date(value.trim());
  if (!match || Number.isNaN(d.getTime()))
    throw new ValidationError(`${field}: not an ISO date or time (YYYY-MM-DD[THH:MM[:SS]][Z|±HH:MM]): ${value}`, field);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day)
    throw new ValidationError(`${field}: no such calendar date: ${value}`, field);
  return d;
}
