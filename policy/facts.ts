import { toCents } from './money';

/**
 * What the rules see of one customer. Money facts are in currency units (numbers) because the rules compare them to
 * thresholds; the amounts an action is priced with stay in integer cents beside them (CustomerContext).
 */
export interface CustomerFacts {
  customerId: string;
  segment: string | null;
  clusterId: number | null;
  priceSensitive: boolean | null;
  churnProbability: number | null;
  riskBand: string | null;
  pAlive: number | null;
  /** Expected net revenue over the CLV horizon. */
  clvExpected: number | null;
  /** The lower end of the CLV interval when the model gives one. */
  clvLower: number | null;
  /** What offers are sized on: clvLower when present, else the expected value. */
  clvConservative: number | null;
  confidence: string;
  /** The churn drivers in words, strongest first. */
  drivers: string[];
  daysSinceLastOrder: number | null;
  ordersLast90Days: number;
  /** Action types already open for the customer (awaiting approval or delivery, unexpired). */
  openActionTypes: string[];
  contactsLast30Days: number;
  /** Reasons of the customer's and their segment's active suppressions. */
  suppressions: string[];
  holdout: boolean;
}

/** Facts a rule may name, besides `parameters` (the customer's segment's parameters). */
export const FACT_NAMES: readonly (keyof CustomerFacts)[] = [
  'customerId',
  'segment',
  'clusterId',
  'priceSensitive',
  'churnProbability',
  'riskBand',
  'pAlive',
  'clvExpected',
  'clvLower',
  'clvConservative',
  'confidence',
  'drivers',
  'daysSinceLastOrder',
  'ordersLast90Days',
  'openActionTypes',
  'contactsLast30Days',
  'suppressions',
  'holdout',
];

/** A customer as one evaluation sees them: the facts, plus what prices and blocks actions. */
export interface CustomerContext {
  facts: CustomerFacts;
  clvExpectedCents: number | null;
  clvConservativeCents: number | null;
  /** Contacts in the longest frequency-cap window: action type and epoch milliseconds. */
  contacts: { actionType: string; at: number }[];
  modelVersions: Record<string, unknown>;
}

/** The columns of a published profile the policy reads (customer_profiles_latest; clv_lower where the model gives it). */
export interface ProfileInput {
  customer_id: string;
  segment: string | null;
  cluster_id: number | null;
  price_sensitive: boolean | null;
  churn_probability: number | null;
  risk_band: string | null;
  p_alive: number | null;
  clv_expected_net_revenue: string | null;
  clv_lower?: string | null;
  confidence: string;
  churn_drivers: { sentence: string }[];
  model_versions: Record<string, unknown>;
}

/** What the database adds to a profile: recent orders, open actions, contacts, suppressions, holdout membership. */
export interface ProfileSurroundings {
  daysSinceLastOrder: number | null;
  ordersLast90Days: number;
  openActionTypes: string[];
  contacts: { actionType: string; at: number }[];
  contactsLast30Days: number;
  suppressions: string[];
  holdout: boolean;
}

const centsOrNull = (amount: string | null | undefined, field: string) =>
  amount === null || amount === undefined ? null : toCents(amount, field);

export function customerContext(profile: ProfileInput, around: ProfileSurroundings): CustomerContext {
  const expected = centsOrNull(profile.clv_expected_net_revenue, 'clv_expected_net_revenue');
  const lower = centsOrNull(profile.clv_lower, 'clv_lower');
  // An interval's lower end above the point estimate cannot be conservative: the smaller of the two is.
  const conservative = lower === null ? expected : expected === null ? lower : Math.min(lower, expected);
  const units = (cents: number | null) => (cents === null ? null : cents / 100);
  return {
    facts: {
      customerId: profile.customer_id,
      segment: profile.segment,
      clusterId: profile.cluster_id,
      priceSensitive: profile.price_sensitive,
      churnProbability: profile.churn_probability,
      riskBand: profile.risk_band,
      pAlive: profile.p_alive,
      clvExpected: units(expected),
      clvLower: units(lower),
      clvConservative: units(conservative),
      confidence: profile.confidence,
      drivers: profile.churn_drivers.map((d) => d.sentence),
      daysSinceLastOrder: around.daysSinceLastOrder,
      ordersLast90Days: around.ordersLast90Days,
      openActionTypes: around.openActionTypes,
      contactsLast30Days: around.contactsLast30Days,
      suppressions: around.suppressions,
      holdout: around.holdout,
    },
    clvExpectedCents: expected,
    clvConservativeCents: conservative,
    contacts: around.contacts,
    modelVersions: profile.model_versions,
  };
}
