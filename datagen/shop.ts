/**
 * Everything shared by all customers of one generation run: the time frame, the type mix, the catalogue and the
 * session modes.
 */
import { parseCalendarDate, SECONDS_PER_DAY } from './calendar';
import { drawCatalog, type Catalog } from './catalog';
import { CUSTOMER_TYPES } from './customer-types';
import { DRIFT_DAYS, DRIFT_PAGE_VIEWS_FACTOR, type GenerateOptions, type SessionsMode, type SignalMode } from './options';
import { cumulativeWeights, deriveRng, STREAM } from './random';

export interface Shop {
  readonly seed: number;
  readonly customers: number;
  readonly currency: string;
  /** Start of the history, in epoch days. */
  readonly historyStartDay: number;
  /** The export instant (end of the as-of day, UTC) in epoch seconds: ingested events lie before it. */
  readonly exportSecond: number;
  /** End of the ground-truth horizon in epoch seconds (exclusive). */
  readonly horizonEndSecond: number;
  /** Cumulative weights over CUSTOMER_TYPES. */
  readonly typeCumulative: readonly number[];
  /** Multiplies each customer's repeat-purchase rate (options.purchaseRateScale). */
  readonly purchaseRateScale: number;
  readonly catalog: Catalog;
  /** Digits in the numeric part of customer ids: at least 7 (C0000001). */
  readonly idDigits: number;
  readonly sessions: SessionsMode;
  readonly signal: SignalMode;
  /** Page views of sessions started from this second on are multiplied by `factor` (options.ts DRIFTS); null: none. */
  readonly pageViewsDrift: { readonly fromSecond: number; readonly factor: number } | null;
}

/** The zero-padded number of a customer id, reused in the ids of their orders, returns and sessions. */
export function customerNumber(index: number, shop: Shop): string {
  return String(index + 1).padStart(shop.idDigits, '0');
}

export function buildShop(options: GenerateOptions): Shop {
  const exportSecond = (parseCalendarDate(options.asOf) as number) + SECONDS_PER_DAY;
  return {
    seed: options.seed,
    customers: options.customers,
    currency: options.currency,
    historyStartDay: exportSecond / SECONDS_PER_DAY - options.historyDays,
    exportSecond,
    horizonEndSecond: exportSecond + options.horizonDays * SECONDS_PER_DAY,
    typeCumulative: cumulativeWeights(CUSTOMER_TYPES.map((type) => options.typeMix[type])),
    purchaseRateScale: options.purchaseRateScale,
    // The catalogue uses its own stream at index 0; customers draw from other streams.
    catalog: drawCatalog(deriveRng(options.seed, 0, STREAM.catalog)),
    idDigits: Math.max(7, String(options.customers).length),
    sessions: options.sessions,
    signal: options.signal,
    pageViewsDrift:
      options.drift === 'page_views' ? { fromSecond: exportSecond - DRIFT_DAYS * SECONDS_PER_DAY, factor: DRIFT_PAGE_VIEWS_FACTOR } : null,
  };
}
