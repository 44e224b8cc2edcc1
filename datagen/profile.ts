/**
 * One customer's fixed traits: who they are, when they signed up, and the latent parameters of their
 * buying behaviour, drawn from their type's population distributions.
 */
import { SECONDS_PER_DAY, shoppingTimeOfDay } from './calendar';
import { CATEGORY_POPULARITY } from './catalog';
import { ACQUISITION_CHANNELS, CUSTOMER_TYPES, TRAITS, type CustomerType, type CustomerTypeTraits } from './customer-types';
import { drawCountry, drawPerson, type Country } from './people';
import { cumulativeWeights, type Rng } from './random';
import { customerNumber, type Shop } from './shop';

export const ORDER_CHANNELS = ['web', 'app', 'pos'] as const;
export type OrderChannel = (typeof ORDER_CHANNELS)[number];
export const DEVICES = ['mobile', 'desktop', 'tablet'] as const;
export type Device = (typeof DEVICES)[number];

export interface CustomerProfile {
  readonly index: number;
  readonly customerId: string;
  /** The zero-padded number in the customer id, reused in order, return and session ids. */
  readonly idNumber: string;
  readonly type: CustomerType;
  readonly traits: CustomerTypeTraits;
  readonly country: Country;
  readonly firstName: string;
  readonly email: string;
  readonly acquisitionChannel: string;
  readonly marketingOptIn: boolean;
  readonly signupDay: number;
  /** Repeat purchases per year while alive; 0 for one-timers. */
  readonly purchasesPerYear: number;
  /** Exponential dropout rate per year after the first purchase; Infinity for one-timers. */
  readonly dropoutsPerYear: number;
  readonly meanOrderValue: number;
  readonly returnPropensity: number;
  readonly discountPropensity: number;
  /** Cumulative preference weights over catalogue categories. */
  readonly categoryCumulative: readonly number[];
  readonly usesApp: boolean;
  readonly hasLoyaltyCard: boolean;
  /** Cumulative weights over ORDER_CHANNELS. */
  readonly channelCumulative: readonly number[];
  readonly primaryDevice: Device;
}

/** Acquisition grows the customer base by this much per year (continuous rate), as a young shop does. */
const ACQUISITION_GROWTH_PER_YEAR = 0.5;
/** Concentration of a customer's category preferences around the shop's popularity: low = picky. */
const CATEGORY_PREFERENCE_CONCENTRATION = 3;

/**
 * Signup instant in epoch days. Customer i takes the quantile ((i + u) / N) of a growing acquisition
 * curve over the history, so ids increase with signup date, then the time of day follows shopping hours.
 */
function signupDay(index: number, shop: Shop, country: Country, rng: Rng): number {
  const historyDays = shop.exportSecond / SECONDS_PER_DAY - shop.historyStartDay;
  const growthPerDay = ACQUISITION_GROWTH_PER_YEAR / 365.25;
  const quantile = (index + rng.uniform()) / shop.customers;
  const day = shop.historyStartDay + Math.log1p(quantile * Math.expm1(growthPerDay * historyDays)) / growthPerDay;
  const offsetDays = country.zone.standardOffsetMinutes / 1440;
  const localDay = day + offsetDays;
  const localMidnight = Math.floor(localDay);
  const shaped = localMidnight + shoppingTimeOfDay(localDay - localMidnight) - offsetDays;
  // The last local day can reach past the export instant; keep such a signup where the curve put it.
  return shaped * SECONDS_PER_DAY < shop.exportSecond ? shaped : day;
}

export function drawProfile(index: number, shop: Shop, rng: Rng): CustomerProfile {
  const type = CUSTOMER_TYPES[rng.pickCumulative(shop.typeCumulative)];
  const traits = TRAITS[type];
  const country = drawCountry(rng);
  const person = drawPerson(rng, country, index, shop.seed);
  const acquisitionChannel = ACQUISITION_CHANNELS[rng.pickCumulative(cumulativeWeights(traits.acquisitionChannels))];
  const buysAgain = traits.rhythm !== 'once';
  const usesApp = rng.chance(0.35);
  // Customers won in a store always have a loyalty card; others sometimes get one.
  const hasLoyaltyCard = acquisitionChannel === 'store' || rng.chance(0.2);
  const idNumber = customerNumber(index, shop);
  return {
    index,
    customerId: `C${idNumber}`,
    idNumber,
    type,
    traits,
    country,
    firstName: person.firstName,
    email: person.email,
    acquisitionChannel,
    marketingOptIn: rng.chance(traits.marketingOptIn),
    signupDay: signupDay(index, shop, country, rng),
    purchasesPerYear: buysAgain
      ? rng.gammaWithMean(traits.purchasesPerYear.mean, traits.purchasesPerYear.shape) * shop.purchaseRateScale
      : 0,
    dropoutsPerYear: buysAgain ? rng.gammaWithMean(traits.dropoutsPerYear.mean, traits.dropoutsPerYear.shape) : Number.POSITIVE_INFINITY,
    meanOrderValue: rng.gammaWithMean(traits.meanOrderValue.mean, traits.meanOrderValue.shape),
    returnPropensity: rng.betaWithMean(traits.returnPropensity, 12),
    discountPropensity: rng.betaWithMean(traits.discountPropensity, 8),
    // Dirichlet preferences: independent gammas with shapes proportional to category popularity.
    categoryCumulative: cumulativeWeights(
      CATEGORY_POPULARITY.map((popularity) => rng.gamma(CATEGORY_PREFERENCE_CONCENTRATION * popularity, 1)),
    ),
    usesApp,
    hasLoyaltyCard,
    channelCumulative: cumulativeWeights([1, usesApp ? 1.5 : 0, hasLoyaltyCard ? 0.8 : 0]),
    primaryDevice: DEVICES[rng.pickCumulative([0.55, 0.9, 1])],
  };
}
