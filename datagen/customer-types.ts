/**
 * The latent customer types of the synthetic shop and the population-level distributions each one draws
 * its customers' parameters from. Rates are per year; "shape" is the gamma shape of the heterogeneity
 * across customers of a type (higher = more alike).
 */

export const CUSTOMER_TYPES = ['loyal', 'deal_seeker', 'declining', 'one_timer', 'seasonal', 'big_spender'] as const;
export type CustomerType = (typeof CUSTOMER_TYPES)[number];

export type TypeMix = Record<CustomerType, number>;

/** Share of each type among new customers; weights, normalised when used. */
export const DEFAULT_TYPE_MIX: TypeMix = {
  loyal: 0.15,
  deal_seeker: 0.2,
  declining: 0.15,
  one_timer: 0.3,
  seasonal: 0.12,
  big_spender: 0.08,
};

/** When in the year and in the customer's life purchases happen (see rhythm.ts); 'once' never buys again. */
export type PurchaseRhythm = 'steady' | 'sales' | 'decaying' | 'season' | 'once';

export interface GammaPrior {
  readonly mean: number;
  readonly shape: number;
}

export interface CustomerTypeTraits {
  /** Repeat purchases per year while alive (Poisson rate, gamma across customers); 0 = never buys again. */
  readonly purchasesPerYear: GammaPrior;
  /** Exponential dropout rate per year after the first purchase (gamma across customers). */
  readonly dropoutsPerYear: GammaPrior;
  /** Mean order value in the shop currency (gamma across customers, Gamma-Gamma style). */
  readonly meanOrderValue: GammaPrior;
  /** Gamma shape of one customer's order values around their mean. */
  readonly orderValueShape: number;
  readonly rhythm: PurchaseRhythm;
  /** Mean probability that a completed order is (partly) returned; beta across customers. */
  readonly returnPropensity: number;
  /** Mean probability that an order uses a discount outside sale periods; beta across customers. */
  readonly discountPropensity: number;
  /** Discount depths (fractions of the order's list value) a discounted order picks from uniformly. */
  readonly discountDepths: readonly number[];
  /** Extra order lines beyond the first (Poisson mean). */
  readonly extraLinesPerOrder: number;
  /** Browsing sessions without a purchase, per purchase. */
  readonly browsesPerPurchase: number;
  readonly marketingOptIn: number;
  /** Weights over ACQUISITION_CHANNELS. */
  readonly acquisitionChannels: readonly number[];
}

export const ACQUISITION_CHANNELS = [
  'organic_search',
  'paid_search',
  'social',
  'email',
  'referral',
  'affiliate',
  'marketplace',
  'store',
] as const;

const USUAL_DISCOUNTS = [0.1, 0.15, 0.2];
const DEEP_DISCOUNTS = [0.15, 0.2, 0.25, 0.3, 0.4];

export const TRAITS: Record<CustomerType, CustomerTypeTraits> = {
  loyal: {
    purchasesPerYear: { mean: 6, shape: 4 },
    dropoutsPerYear: { mean: 0.12, shape: 3 },
    meanOrderValue: { mean: 75, shape: 6 },
    orderValueShape: 5,
    rhythm: 'steady',
    returnPropensity: 0.06,
    discountPropensity: 0.1,
    discountDepths: USUAL_DISCOUNTS,
    extraLinesPerOrder: 0.8,
    browsesPerPurchase: 2,
    marketingOptIn: 0.7,
    acquisitionChannels: [0.35, 0.1, 0.1, 0.1, 0.2, 0.03, 0.02, 0.1],
  },
  deal_seeker: {
    purchasesPerYear: { mean: 4, shape: 2 },
    dropoutsPerYear: { mean: 0.5, shape: 2 },
    meanOrderValue: { mean: 45, shape: 5 },
    orderValueShape: 4,
    rhythm: 'sales',
    returnPropensity: 0.12,
    discountPropensity: 0.7,
    discountDepths: DEEP_DISCOUNTS,
    extraLinesPerOrder: 0.9,
    browsesPerPurchase: 4,
    marketingOptIn: 0.8,
    acquisitionChannels: [0.1, 0.25, 0.2, 0.1, 0.05, 0.2, 0.08, 0.02],
  },
  declining: {
    purchasesPerYear: { mean: 6, shape: 3 },
    dropoutsPerYear: { mean: 0.6, shape: 2 },
    meanOrderValue: { mean: 60, shape: 6 },
    orderValueShape: 4,
    rhythm: 'decaying',
    returnPropensity: 0.09,
    discountPropensity: 0.2,
    discountDepths: USUAL_DISCOUNTS,
    extraLinesPerOrder: 0.6,
    browsesPerPurchase: 2.5,
    marketingOptIn: 0.5,
    acquisitionChannels: [0.25, 0.2, 0.15, 0.1, 0.1, 0.1, 0.05, 0.05],
  },
  one_timer: {
    // Drops out right after the first purchase: the repeat and dropout rates are never used.
    purchasesPerYear: { mean: 0, shape: 1 },
    dropoutsPerYear: { mean: 0, shape: 1 },
    meanOrderValue: { mean: 55, shape: 4 },
    orderValueShape: 4,
    rhythm: 'once',
    returnPropensity: 0.15,
    discountPropensity: 0.3,
    discountDepths: USUAL_DISCOUNTS,
    extraLinesPerOrder: 0.4,
    browsesPerPurchase: 0,
    marketingOptIn: 0.35,
    acquisitionChannels: [0.15, 0.25, 0.2, 0.02, 0.05, 0.13, 0.15, 0.05],
  },
  seasonal: {
    purchasesPerYear: { mean: 3, shape: 3 },
    dropoutsPerYear: { mean: 0.25, shape: 3 },
    meanOrderValue: { mean: 85, shape: 5 },
    orderValueShape: 4,
    rhythm: 'season',
    returnPropensity: 0.08,
    discountPropensity: 0.2,
    discountDepths: USUAL_DISCOUNTS,
    extraLinesPerOrder: 1,
    browsesPerPurchase: 3,
    marketingOptIn: 0.55,
    acquisitionChannels: [0.3, 0.15, 0.15, 0.1, 0.1, 0.05, 0.05, 0.1],
  },
  big_spender: {
    purchasesPerYear: { mean: 3.5, shape: 3 },
    dropoutsPerYear: { mean: 0.3, shape: 3 },
    meanOrderValue: { mean: 320, shape: 3 },
    orderValueShape: 4,
    rhythm: 'steady',
    returnPropensity: 0.15,
    discountPropensity: 0.08,
    discountDepths: USUAL_DISCOUNTS,
    extraLinesPerOrder: 1.4,
    browsesPerPurchase: 2.5,
    marketingOptIn: 0.5,
    acquisitionChannels: [0.3, 0.15, 0.1, 0.1, 0.2, 0.02, 0.03, 0.1],
  },
};
