/**
 * Purchase rhythms: multiplicative factors on a customer's Poisson purchase rate over calendar time and
 * over their life. Each comes with its maximum so the non-homogeneous process can be simulated by thinning.
 */
import { dayOfYear, DAYS_PER_YEAR } from './calendar';
import type { PurchaseRhythm } from './customer-types';
import type { Rng } from './random';

export interface Rhythm {
  factor(epochDays: number): number;
  readonly max: number;
}

/** Circular distance in days between two days of the year. */
function daysApart(day: number, centre: number): number {
  const d = Math.abs(day - centre);
  return Math.min(d, DAYS_PER_YEAR - d);
}

function bump(epochDays: number, centreDay: number, spreadDays: number): number {
  const d = daysApart(dayOfYear(epochDays), centreDay);
  return Math.exp((-d * d) / (2 * spreadDays * spreadDays));
}

/** Sale periods by day of year: January sale, summer sale, Black Friday to Cyber Monday. */
export function isSalePeriod(epochDays: number): boolean {
  const day = dayOfYear(epochDays);
  return day < 14 || (day >= 178 && day < 200) || (day >= 327 && day < 334);
}

// Everybody buys a little more in the weeks before Christmas.
const CHRISTMAS_DAY = 340;
const CHRISTMAS_SPREAD = 18;
const CHRISTMAS_LIFT = 0.6;

const STEADY: Rhythm = {
  factor: (t) => 1 + CHRISTMAS_LIFT * bump(t, CHRISTMAS_DAY, CHRISTMAS_SPREAD),
  max: 1 + CHRISTMAS_LIFT,
};

// Deal seekers mostly wait for sales (~12% of the year), so their average factor stays near 1.
const SALES: Rhythm = {
  factor: (t) => (isSalePeriod(t) ? 4 : 0.5),
  max: 4,
};

/** Seasons a seasonal customer may be tied to: centre day of year and spread in days. */
const SEASONS = [
  { centre: 345, spread: 15 },
  { centre: 185, spread: 25 },
  { centre: 105, spread: 20 },
] as const;
const OFF_SEASON_FACTOR = 0.08;

/** Purchases concentrated in one season, scaled so the factor averages about 1 over a year. */
function seasonRhythm(rng: Rng): Rhythm {
  const season = rng.pick(SEASONS);
  const meanBump = (season.spread * Math.sqrt(2 * Math.PI)) / DAYS_PER_YEAR;
  const peak = (1 - OFF_SEASON_FACTOR) / meanBump;
  return {
    factor: (t) => OFF_SEASON_FACTOR + peak * bump(t, season.centre, season.spread),
    max: OFF_SEASON_FACTOR + peak,
  };
}

/** The rate halves every half-life (a few months to a year) after the first purchase. */
function decayingRhythm(rng: Rng, firstPurchaseDay: number): Rhythm {
  const decayPerDay = Math.LN2 / rng.gammaWithMean(240, 4);
  return {
    // Full strength until the first purchase (browsing before it), so the factor never exceeds max.
    factor: (t) => STEADY.factor(t) * Math.exp(-decayPerDay * Math.max(0, t - firstPurchaseDay)),
    max: STEADY.max,
  };
}

/** A customer's rhythm; one-timers have no repeat purchases to time, and browse on the steady one. */
export function drawRhythm(kind: PurchaseRhythm, rng: Rng, firstPurchaseDay: number): Rhythm {
  switch (kind) {
    case 'steady':
    case 'once':
      return STEADY;
    case 'sales':
      return SALES;
    case 'season':
      return seasonRhythm(rng);
    case 'decaying':
      return decayingRhythm(rng, firstPurchaseDay);
  }
}
