/**
 * Units of time and the default forecast horizons, defined once: training, scoring, the CLI and the models all
 * read them from here so that "churn" and "CLV" mean the same window everywhere.
 */

export const MS_PER_DAY = 86_400_000;

/** A Julian year, and a month as a twelfth of it: the CLV models' calendar. */
export const DAYS_PER_YEAR = 365.25;
export const MONTHS_PER_YEAR = 12;
export const DAYS_PER_MONTH = DAYS_PER_YEAR / MONTHS_PER_YEAR;

/** Churn = no completed order in (as_of, as_of + this many days]. */
export const DEFAULT_CHURN_HORIZON_DAYS = 90;

/** CLV = expected net revenue over this many months of DAYS_PER_MONTH days. */
export const DEFAULT_CLV_HORIZON_MONTHS = 12;
