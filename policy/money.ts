import { ValidationError } from '../lib/errors';

/**
 * Money inside the policy layer is integer cents: incentives and budgets are added and compared exactly, never as
 * floats; amounts enter and leave as decimal strings (numeric in Postgres).
 */
export function toCents(amount: string | number, field: string): number {
  const text = typeof amount === 'number' ? amount.toFixed(2) : amount.trim();
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) throw new ValidationError(`${field} must be an amount like 12.50, got ${JSON.stringify(amount)}`, field);
  const cents = Number(match[2]) * 100 + Number((match[3] ?? '').padEnd(2, '0'));
  if (!Number.isSafeInteger(cents)) throw new ValidationError(`${field} is too large: ${text}`, field);
  return match[1] ? -cents : cents;
}

export function fromCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
