import { z } from 'zod/v4';

/**
 * Field parsers shared by every ingested entity. Each issue's message is a stable reason code
 * (see REJECT_REASONS) so that rejects can be counted and explained per reason.
 */
export const REJECT_REASONS = {
  missing: 'a required value is empty',
  malformed_amount: 'not a decimal amount with at most 2 decimals',
  negative_amount: 'amount below zero',
  malformed_timestamp: 'not an ISO-8601 date or timestamp',
  future_timestamp: 'after the ingestion cut-off (the export time, or now)',
  implausible_timestamp: 'before 1990-01-01',
  malformed_integer: 'not a whole number',
  out_of_range: 'a number outside its allowed range',
  invalid_value: 'not one of the allowed values',
  invalid_email: 'not an email address',
  invalid_currency: 'not a 3-letter currency code',
  malformed_json: 'the line is not a JSON object',
  malformed_csv: 'a quote inside an unquoted value, or text after a closing quote',
  unterminated_quote: 'a quoted value not closed before the end of the file or the record size cap',
  extra_fields: 'more fields than the header has columns',
  record_too_large: 'longer than the record size cap (FORESIGHT_INGEST_MAX_RECORD_BYTES); not read further',
  too_deeply_nested: 'JSON nested deeper than the cap (FORESIGHT_INGEST_MAX_DEPTH)',
  invalid_utf8: 'not valid UTF-8',
  invalid_character: 'contains a NUL character or a lone UTF-16 surrogate, which cannot be stored as text',
  nested_value: 'an object or array where a plain value is expected',
  unknown_order: 'refers to an order that has not been ingested',
  conflicting_duplicate: 'same key as an earlier row of this file with different values (first row kept)',
  identity_conflict: 'this source id is already mapped to another customer (existing mapping kept)',
} as const;
export type RejectReason = keyof typeof REJECT_REASONS;

export interface ParseContext {
  /** Events after this instant are rejected as future_timestamp. */
  notAfter: Date;
}

const EARLIEST_PLAUSIBLE = Date.UTC(1990, 0, 1);
const MONEY = /^-?\d{1,12}(\.\d{1,2})?$/;
const INTEGER = /^-?\d{1,9}$/;
// ISO-8601 date, or date-time with optional fraction and zone; a bare date-time without zone is read as UTC.
// The groups are checked against the calendar: Date would roll 2026-02-30 over to March 2nd.
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isRealCalendarTime(m: RegExpExecArray): boolean {
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return false;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59)) return false;
  return m[8] === undefined || (Number(m[8]) <= 14 && Number(m[9]) <= 59);
}

const trimmed = z.preprocess((v) => (v === null || v === undefined ? '' : String(v).trim()), z.string());

export const requiredText = trimmed.pipe(z.string().min(1, 'missing'));
export const optionalText = trimmed.transform((v) => (v === '' ? null : v));

export function money(options: { optional?: boolean } = {}) {
  return trimmed.transform((v, ctx) => {
    if (v === '') {
      if (options.optional) return '0';
      ctx.addIssue({ code: 'custom', message: 'missing' });
      return z.NEVER;
    }
    if (!MONEY.test(v)) {
      ctx.addIssue({ code: 'custom', message: 'malformed_amount' });
      return z.NEVER;
    }
    if (v.startsWith('-')) {
      ctx.addIssue({ code: 'custom', message: 'negative_amount' });
      return z.NEVER;
    }
    // Kept as the decimal string: Postgres numeric stores it exactly.
    return v;
  });
}

export function integer(min: number, max: number) {
  return trimmed.transform((v, ctx) => {
    if (v === '') {
      ctx.addIssue({ code: 'custom', message: 'missing' });
      return z.NEVER;
    }
    return wholeNumber(v, min, max, ctx);
  });
}

/** A whole number in [min, max], or null when empty. */
export function optionalInteger(min: number, max: number) {
  return trimmed.transform((v, ctx) => (v === '' ? null : wholeNumber(v, min, max, ctx)));
}

function wholeNumber(v: string, min: number, max: number, ctx: z.RefinementCtx): number {
  if (!INTEGER.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'malformed_integer' });
    return z.NEVER;
  }
  const n = Number(v);
  if (n < min || n > max) {
    ctx.addIssue({ code: 'custom', message: 'out_of_range' });
    return z.NEVER;
  }
  return n;
}

function parseTimestamp(v: string, context: ParseContext, ctx: z.RefinementCtx): Date {
  const m = ISO_TIMESTAMP.exec(v);
  const parsed =
    m && isRealCalendarTime(m) ? new Date(m[7] !== undefined || m[4] === undefined ? v : `${v.replace(' ', 'T')}Z`) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'malformed_timestamp' });
    return z.NEVER;
  }
  if (parsed.getTime() > context.notAfter.getTime()) {
    ctx.addIssue({ code: 'custom', message: 'future_timestamp' });
    return z.NEVER;
  }
  if (parsed.getTime() < EARLIEST_PLAUSIBLE) {
    ctx.addIssue({ code: 'custom', message: 'implausible_timestamp' });
    return z.NEVER;
  }
  return parsed;
}

export function timestamp(context: ParseContext) {
  return trimmed.transform((v, ctx): Date => {
    if (v === '') {
      ctx.addIssue({ code: 'custom', message: 'missing' });
      return z.NEVER;
    }
    return parseTimestamp(v, context, ctx);
  });
}

export function optionalTimestamp(context: ParseContext) {
  return trimmed.transform((v, ctx): Date | null => (v === '' ? null : parseTimestamp(v, context, ctx)));
}

export const currency = trimmed.transform((v, ctx) => {
  const code = v === '' ? 'USD' : v.toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) {
    ctx.addIssue({ code: 'custom', message: 'invalid_currency' });
    return z.NEVER;
  }
  return code;
});

/** Emails are compared lower-cased and trimmed; that is the whole normalisation (no provider-specific rules). */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

export const optionalEmail = trimmed.transform((v, ctx) => {
  if (v === '') return null;
  const email = normalizeEmail(v);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    ctx.addIssue({ code: 'custom', message: 'invalid_email' });
    return z.NEVER;
  }
  return email;
});

export function oneOf<T extends string>(values: readonly T[], fallback?: T) {
  return trimmed.transform((v, ctx) => {
    const value = v.toLowerCase();
    if (value === '' && fallback !== undefined) return fallback;
    if (value === '') {
      ctx.addIssue({ code: 'custom', message: 'missing' });
      return z.NEVER;
    }
    if (!(values as readonly string[]).includes(value)) {
      ctx.addIssue({ code: 'custom', message: 'invalid_value' });
      return z.NEVER;
    }
    return value as T;
  });
}
