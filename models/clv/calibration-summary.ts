import { ValidationError } from '../../lib/errors';
import { MS_PER_DAY } from '../../lib/horizons';

/** One purchase. `day` counts whole days since 1970-01-01 (UTC), so date arithmetic is exact. */
export interface Transaction {
  customerId: string;
  day: number;
  value: number;
}

/** Calibration/holdout split, both ends inclusive, as day numbers; time is reported in units of `daysPerUnit` days. */
export interface SummaryPeriods {
  calibrationEnd: number;
  holdoutEnd: number;
  /** 7 for weeks, 1 for days. */
  daysPerUnit: number;
}

/** A customer's sufficient statistics for the BG/NBD and Gamma-Gamma models, plus the holdout outcome. */
export interface CustomerSummary {
  customerId: string;
  /** x: repeat purchases (distinct purchase days after the first) in the calibration period. */
  frequency: number;
  /** t_x: time from the first to the last calibration purchase. */
  recency: number;
  /** T: time from the first purchase to the calibration end. */
  age: number;
  /** z̄: mean value of the calibration repeat purchases (the first purchase excluded), 0 when x = 0. */
  meanRepeatValue: number;
  /** x*: purchases (distinct days) in the holdout period, after calibrationEnd up to holdoutEnd. */
  holdoutFrequency: number;
}

/** Day number of an ISO calendar date 'YYYY-MM-DD'. */
export function dayNumber(isoDate: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || new Date(ms).toISOString().slice(0, 10) !== isoDate) {
    throw new ValidationError(`not a calendar date (YYYY-MM-DD): ${isoDate}`, 'date');
  }
  return ms / MS_PER_DAY;
}

/** Length of the holdout period in summary time units. */
export function holdoutLength(periods: SummaryPeriods): number {
  return (periods.holdoutEnd - periods.calibrationEnd) / periods.daysPerUnit;
}

/**
 * The calibration summary (x, t_x, T, z̄) and holdout count x* of every customer whose first purchase
 * falls in the calibration period, in order of first appearance. Purchases on the same day are merged
 * into one (their values summed), as in Fader, Hardie & Lee (2005); purchases after holdoutEnd are ignored.
 */
export function summarizeCustomers(transactions: Iterable<Transaction>, periods: SummaryPeriods): CustomerSummary[] {
  if (!(periods.holdoutEnd >= periods.calibrationEnd)) {
    throw new ValidationError('holdoutEnd must not be before calibrationEnd', 'holdoutEnd');
  }
  const valueByDayByCustomer = new Map<string, Map<number, number>>();
  for (const { customerId, day, value } of transactions) {
    if (day > periods.holdoutEnd) continue;
    let valueByDay = valueByDayByCustomer.get(customerId);
    if (!valueByDay) valueByDayByCustomer.set(customerId, (valueByDay = new Map()));
    valueByDay.set(day, (valueByDay.get(day) ?? 0) + value);
  }

  const summaries: CustomerSummary[] = [];
  for (const [customerId, valueByDay] of valueByDayByCustomer) {
    const days = [...valueByDay.keys()].sort((p, q) => p - q);
    const firstDay = days[0];
    if (firstDay > periods.calibrationEnd) continue;
    const calibrationDays = days.filter((day) => day <= periods.calibrationEnd);
    const repeatDays = calibrationDays.slice(1);
    const lastDay = calibrationDays[calibrationDays.length - 1];
    const repeatValue = repeatDays.reduce((sum, day) => sum + (valueByDay.get(day) ?? 0), 0);
    summaries.push({
      customerId,
      frequency: repeatDays.length,
      recency: (lastDay - firstDay) / periods.daysPerUnit,
      age: (periods.calibrationEnd - firstDay) / periods.daysPerUnit,
      meanRepeatValue: repeatDays.length > 0 ? repeatValue / repeatDays.length : 0,
      holdoutFrequency: days.length - calibrationDays.length,
    });
  }
  return summaries;
}
