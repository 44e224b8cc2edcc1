/** Numbers, money and dates in the viewer's locale (the browser's), through Intl. */
const locale = undefined;

const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const decimal2 = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const decimal3 = new Intl.NumberFormat(locale, { maximumFractionDigits: 3 });
const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });

// Intl formats a decimal string exactly (no float rounding on the way); ES2023 typings, hence the cast.
type DecimalFormat = (value: string) => string;

/** Money from the API (a decimal string in the shop's currency), with two decimals. */
export const money = (value: string | null): string => (value === null ? '–' : (decimal2.format as unknown as DecimalFormat)(value));
export const count = (value: number | null): string => (value === null ? '–' : integer.format(value));
export const share = (value: number | null): string => (value === null ? '–' : percent.format(value));
export const number2 = (value: number | null): string => (value === null ? '–' : decimal2.format(value));
/** A figure of unknown kind (a metric, a count in a document): whole numbers as such, others to three decimals. */
export const figure = (value: number): string => (Number.isInteger(value) ? integer : decimal3).format(value);
export const when = (iso: string | null): string => (iso === null ? '–' : dateTime.format(new Date(iso)));
export const day = (iso: string | null): string => (iso === null ? '–' : date.format(new Date(iso)));
