/**
 * Options of `foresight generate`: defaults and validation. Every error names the parameter at fault.
 */
import { ValidationError } from '../lib/errors';
import { parseCalendarDate } from './calendar';
import { CUSTOMER_TYPES, DEFAULT_TYPE_MIX, type TypeMix } from './customer-types';

/** Kinds of deliberate dirt, as named in the summary and in dirty_rows.csv. */
export const DIRTY_KINDS = ['malformed_amount', 'missing_timestamp', 'future_timestamp', 'duplicate_row', 'conflicting_id'] as const;
export type DirtyKind = (typeof DIRTY_KINDS)[number];
export type DirtyRates = Record<DirtyKind, number>;

/** Whether the shop exports sessions: 'none' makes a transactions-only shop (no sessions.csv at all). */
export const SESSIONS_MODES = ['all', 'none'] as const;
export type SessionsMode = (typeof SESSIONS_MODES)[number];

/**
 * How cleanly browsing foretells dropout. 'strong': every customer's browsing fades linearly to nothing over the
 * 90 days before dropout and stops there. 'realistic': browsing intensity varies between customers, fades for only
 * some of them, over a random length and partly, around a time scattered about the dropout, and some keep browsing
 * after their last purchase (simulate.ts). Orders are the same in both.
 */
export const SIGNAL_MODES = ['strong', 'realistic'] as const;
export type SignalMode = (typeof SIGNAL_MODES)[number];

/**
 * A drift injected into the shop's data, for monitoring demos and tests. 'page_views': from DRIFT_DAYS before the
 * export, every session records DRIFT_PAGE_VIEWS_FACTOR times its page views (a tracking change that fires the event
 * more often), so page_views_30d shifts for everyone who browsed while behaviour does not. (A shift of amounts would
 * not do: only the few recent buyers' spend moves, and a feature that is zero for over 90% of customers has a single
 * PSI bin.)
 */
export const DRIFTS = ['none', 'page_views'] as const;
export type Drift = (typeof DRIFTS)[number];
export const DRIFT_DAYS = 30;
export const DRIFT_PAGE_VIEWS_FACTOR = 5;

export interface GenerateOptions {
  /** Number of customers to generate. */
  customers: number;
  /** Any non-negative safe integer; the same options give byte-identical files. */
  seed: number;
  /** Directory for the files; created if missing, files in it overwritten. */
  outDir: string;
  /** Export date 'YYYY-MM-DD': the history ends at the end of this day (UTC). */
  asOf: string;
  /** Length of the history before the export, in days. */
  historyDays: number;
  /** Days after the export simulated for ground_truth.csv only. */
  horizonDays: number;
  /** ISO 4217 code of the shop's single currency. */
  currency: string;
  /** Weights of the latent customer types; a given mix replaces the default (missing types get 0). */
  typeMix: TypeMix;
  /**
   * Multiplies every customer's repeat-purchase rate (1: the types as described). The same draws are made whatever the
   * scale, so customers keep their type, dates of signup and dropout; only how often they buy changes. For heavy shops
   * (the million-customer bench at about 20 orders per customer).
   */
  purchaseRateScale: number;
  /**
   * Probability that an eligible row gets each kind of dirt (see dirty.ts for which rows are eligible).
   * Kinds are exclusive per row, so the rates of kinds sharing a file must sum to at most 1.
   */
  dirtyRates: DirtyRates;
  /** 'all' writes sessions.csv; 'none' writes no sessions file, everything else unchanged. */
  sessions: SessionsMode;
  /** How cleanly sessions foretell dropout; only changes sessions.csv. */
  signal: SignalMode;
  /** A drift injected into the last DRIFT_DAYS before the export ('none': the shop as it behaves). */
  drift: Drift;
}

export type GenerateOptionsInput = Partial<Omit<GenerateOptions, 'typeMix' | 'dirtyRates'>> & {
  outDir: string;
  typeMix?: Partial<TypeMix>;
  dirtyRates?: Partial<DirtyRates>;
};

export const MAX_CUSTOMERS = 100_000_000;

export const DEFAULT_GENERATE_OPTIONS: Omit<GenerateOptions, 'outDir'> = {
  customers: 10_000,
  seed: 42,
  asOf: '2026-06-30',
  historyDays: 3 * 365,
  horizonDays: 365,
  currency: 'EUR',
  typeMix: DEFAULT_TYPE_MIX,
  purchaseRateScale: 1,
  dirtyRates: {
    malformed_amount: 0.005,
    missing_timestamp: 0.005,
    future_timestamp: 0.005,
    duplicate_row: 0.005,
    conflicting_id: 0.005,
  },
  sessions: 'all',
  signal: 'strong',
  drift: 'none',
};

function requireInteger(value: number, field: string, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(`${field} must be an integer from ${min} to ${max}, got ${String(value)}`, field);
  }
}

function requireProbability(value: number, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ValidationError(`${field} must be a number from 0 to 1, got ${String(value)}`, field);
  }
}

function requireOneOf(value: unknown, field: string, allowed: readonly string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new ValidationError(`${field} must be one of ${allowed.join(', ')}, got '${String(value)}'`, field);
  }
}

function resolveTypeMix(input: Partial<TypeMix> | undefined): TypeMix {
  if (input === undefined) return DEFAULT_TYPE_MIX;
  for (const key of Object.keys(input)) {
    if (!(CUSTOMER_TYPES as readonly string[]).includes(key)) {
      throw new ValidationError(`typeMix has unknown customer type '${key}'; known: ${CUSTOMER_TYPES.join(', ')}`, 'typeMix');
    }
  }
  const mix = Object.fromEntries(CUSTOMER_TYPES.map((type) => [type, input[type] ?? 0])) as TypeMix;
  for (const type of CUSTOMER_TYPES) {
    const weight = mix[type];
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      throw new ValidationError(`typeMix.${type} must be a non-negative number, got ${String(weight)}`, `typeMix.${type}`);
    }
  }
  if (CUSTOMER_TYPES.every((type) => mix[type] === 0)) {
    throw new ValidationError('typeMix must give at least one customer type a positive weight', 'typeMix');
  }
  return mix;
}

function resolveDirtyRates(input: Partial<DirtyRates> | undefined): DirtyRates {
  for (const key of Object.keys(input ?? {})) {
    if (!(DIRTY_KINDS as readonly string[]).includes(key)) {
      throw new ValidationError(`dirtyRates has unknown kind '${key}'; known: ${DIRTY_KINDS.join(', ')}`, 'dirtyRates');
    }
  }
  const rates = { ...DEFAULT_GENERATE_OPTIONS.dirtyRates, ...input };
  for (const kind of DIRTY_KINDS) requireProbability(rates[kind], `dirtyRates.${kind}`);
  // orders.csv is eligible for every kind except conflicting_id, and a row gets at most one.
  const ordersTotal = rates.malformed_amount + rates.missing_timestamp + rates.future_timestamp + rates.duplicate_row;
  if (ordersTotal > 1) {
    throw new ValidationError(
      `dirtyRates for malformed_amount, missing_timestamp, future_timestamp and duplicate_row sum to ${ordersTotal}; at most 1`,
      'dirtyRates',
    );
  }
  return rates;
}

/** Applies defaults and validates; throws ValidationError naming the parameter. */
export function resolveGenerateOptions(input: GenerateOptionsInput): GenerateOptions {
  const options: GenerateOptions = {
    ...DEFAULT_GENERATE_OPTIONS,
    ...Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)),
    outDir: input.outDir,
    typeMix: resolveTypeMix(input.typeMix),
    dirtyRates: resolveDirtyRates(input.dirtyRates),
  };
  requireInteger(options.customers, 'customers', 1, MAX_CUSTOMERS);
  requireInteger(options.seed, 'seed', 0, Number.MAX_SAFE_INTEGER);
  if (typeof options.outDir !== 'string' || options.outDir.trim() === '') {
    throw new ValidationError('outDir must be a directory path', 'outDir');
  }
  if (typeof options.asOf !== 'string' || parseCalendarDate(options.asOf) === null) {
    throw new ValidationError(`asOf must be a date YYYY-MM-DD, got '${String(options.asOf)}'`, 'asOf');
  }
  requireInteger(options.historyDays, 'historyDays', 30, 36_500);
  requireInteger(options.horizonDays, 'horizonDays', 1, 3_650);
  if (typeof options.purchaseRateScale !== 'number' || !(options.purchaseRateScale > 0 && options.purchaseRateScale <= 10)) {
    throw new ValidationError(
      `purchaseRateScale must be a number above 0 and at most 10, got ${String(options.purchaseRateScale)}`,
      'purchaseRateScale',
    );
  }
  if (typeof options.currency !== 'string' || !/^[A-Z]{3}$/.test(options.currency)) {
    throw new ValidationError(`currency must be a three-letter ISO 4217 code, got '${String(options.currency)}'`, 'currency');
  }
  requireOneOf(options.sessions, 'sessions', SESSIONS_MODES);
  requireOneOf(options.signal, 'signal', SIGNAL_MODES);
  requireOneOf(options.drift, 'drift', DRIFTS);
  return options;
}
