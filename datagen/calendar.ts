/**
 * Time for the generator: instants are whole seconds since the Unix epoch (UTC), written as ISO-8601 in
 * the customer's local offset, including daylight saving time, the way a shop system exports them.
 */

export const SECONDS_PER_DAY = 86_400;
export const DAYS_PER_YEAR = 365.2425;

/** A country's clock: standard offset from UTC and which daylight-saving rule applies. */
export interface TimeZone {
  readonly standardOffsetMinutes: number;
  readonly daylightSaving: 'eu' | 'us' | 'none';
}

/** Parses a calendar date 'YYYY-MM-DD' to the epoch second of its midnight UTC; null if not a real date. */
export function parseCalendarDate(text: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return ms / 1000;
}

/** Day of year in [0, 365.2425), from days since the epoch; drifts under a day over centuries, fine for seasons. */
export function dayOfYear(epochDays: number): number {
  return epochDays - DAYS_PER_YEAR * Math.floor(epochDays / DAYS_PER_YEAR);
}

// Year boundaries from 1970 to 2299, so the year of an instant costs a lookup instead of a Date.
const FIRST_YEAR = 1970;
const YEAR_STARTS: Float64Array = (() => {
  const starts = new Float64Array(331);
  for (let i = 0; i < starts.length; i++) starts[i] = Date.UTC(FIRST_YEAR + i, 0, 1) / 1000;
  return starts;
})();

function yearOf(epochSeconds: number): number {
  let i = Math.floor(epochSeconds / (DAYS_PER_YEAR * SECONDS_PER_DAY));
  if (epochSeconds < YEAR_STARTS[i]) i--;
  else if (epochSeconds >= YEAR_STARTS[i + 1]) i++;
  return FIRST_YEAR + i;
}

/** Epoch second of the n-th (1-based) or, with n = -1, the last Sunday of a month at hour:00 UTC. */
function sundayOfMonth(year: number, month: number, n: number, hourUtc: number): number {
  if (n === -1) {
    const lastDay = new Date(Date.UTC(year, month + 1, 0));
    return Date.UTC(year, month, lastDay.getUTCDate() - lastDay.getUTCDay(), hourUtc) / 1000;
  }
  const firstDay = new Date(Date.UTC(year, month, 1));
  const firstSunday = 1 + ((7 - firstDay.getUTCDay()) % 7);
  return Date.UTC(year, month, firstSunday + 7 * (n - 1), hourUtc) / 1000;
}

const daylightSavingCache = new Map<TimeZone, Float64Array>();

/**
 * Daylight saving periods of a zone: [start, end) of year y, as epoch seconds, at 2 × (y - 1970).
 * Filled lazily, since a run touches only a handful of years.
 */
function daylightSavingPeriods(zone: TimeZone, year: number): Float64Array {
  let periods = daylightSavingCache.get(zone);
  if (!periods) {
    periods = new Float64Array(2 * YEAR_STARTS.length).fill(Number.NaN);
    daylightSavingCache.set(zone, periods);
  }
  const at = 2 * (year - FIRST_YEAR);
  if (Number.isNaN(periods[at])) {
    if (zone.daylightSaving === 'eu') {
      // EU: last Sunday of March to last Sunday of October, both at 01:00 UTC.
      periods[at] = sundayOfMonth(year, 2, -1, 1);
      periods[at + 1] = sundayOfMonth(year, 9, -1, 1);
    } else {
      // US: second Sunday of March 02:00 local standard time to first Sunday of November 02:00 local daylight time.
      const offsetHours = zone.standardOffsetMinutes / 60;
      periods[at] = sundayOfMonth(year, 2, 2, 2 - offsetHours);
      periods[at + 1] = sundayOfMonth(year, 10, 1, 1 - offsetHours);
    }
  }
  return periods;
}

function offsetMinutesAt(zone: TimeZone, epochSeconds: number): number {
  if (zone.daylightSaving === 'none') return zone.standardOffsetMinutes;
  const year = yearOf(epochSeconds);
  const periods = daylightSavingPeriods(zone, year);
  const at = 2 * (year - FIRST_YEAR);
  const inDaylightSaving = epochSeconds >= periods[at] && epochSeconds < periods[at + 1];
  return inDaylightSaving ? zone.standardOffsetMinutes + 60 : zone.standardOffsetMinutes;
}

// Formatting is the hottest path of the generator: building strings from cached pieces avoids a Date per timestamp.
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const dateTexts = new Map<number, string>();
const offsetTexts = new Map<number, string>();

function dateText(epochDay: number): string {
  let text = dateTexts.get(epochDay);
  if (text === undefined) {
    text = new Date(epochDay * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10);
    dateTexts.set(epochDay, text);
  }
  return text;
}

function offsetText(offsetMinutes: number): string {
  let text = offsetTexts.get(offsetMinutes);
  if (text === undefined) {
    const absolute = Math.abs(offsetMinutes);
    text = `${offsetMinutes < 0 ? '-' : '+'}${TWO_DIGITS[Math.floor(absolute / 60)]}:${TWO_DIGITS[absolute % 60]}`;
    offsetTexts.set(offsetMinutes, text);
  }
  return text;
}

/** ISO-8601 with the zone's offset at that instant, e.g. 2025-03-14T18:22:05+01:00. */
export function formatTimestamp(epochSeconds: number, zone: TimeZone): string {
  const offsetMinutes = offsetMinutesAt(zone, epochSeconds);
  const local = epochSeconds + offsetMinutes * 60;
  const day = Math.floor(local / SECONDS_PER_DAY);
  const secondOfDay = local - day * SECONDS_PER_DAY;
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  return `${dateText(day)}T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[secondOfDay % 60]}${offsetText(offsetMinutes)}`;
}

/**
 * Relative shopping activity by local hour (quiet at night, peaks at lunch and in the evening), scaled to
 * mean 1 so it can thin a Poisson process without changing its daily rate.
 */
const RAW_HOUR_ACTIVITY = [
  0.25, 0.12, 0.07, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.1, 1.2, 1.35, 1.45, 1.35, 1.2, 1.2, 1.3, 1.45, 1.6, 1.8, 1.95, 1.75, 1.2, 0.6,
];
const MEAN_HOUR_ACTIVITY = RAW_HOUR_ACTIVITY.reduce((sum, w) => sum + w, 0) / 24;
const HOUR_ACTIVITY = RAW_HOUR_ACTIVITY.map((w) => w / MEAN_HOUR_ACTIVITY);
export const MAX_HOUR_ACTIVITY = Math.max(...HOUR_ACTIVITY);

/** Activity weight at an instant given in epoch days, in the zone's standard time. */
export function hourActivity(epochDays: number, zone: TimeZone): number {
  const localDays = epochDays + zone.standardOffsetMinutes / 1440;
  return HOUR_ACTIVITY[Math.floor((localDays - Math.floor(localDays)) * 24)];
}

const HOUR_ACTIVITY_CUMULATIVE = (() => {
  const cumulative = [0];
  for (const w of HOUR_ACTIVITY) cumulative.push(cumulative[cumulative.length - 1] + w / 24);
  return cumulative;
})();

/**
 * Maps a uniform fraction of a day to a fraction distributed like HOUR_ACTIVITY. It is monotone, so
 * instants keep their order within a day (customer ids stay in signup order).
 */
export function shoppingTimeOfDay(uniformFraction: number): number {
  let hour = 0;
  while (hour < 23 && HOUR_ACTIVITY_CUMULATIVE[hour + 1] <= uniformFraction) hour++;
  const within = (uniformFraction - HOUR_ACTIVITY_CUMULATIVE[hour]) / (HOUR_ACTIVITY_CUMULATIVE[hour + 1] - HOUR_ACTIVITY_CUMULATIVE[hour]);
  return (hour + Math.min(within, 1)) / 24;
}
