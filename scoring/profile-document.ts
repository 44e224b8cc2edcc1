import type { Knex } from 'knex';
import { NotFoundError } from '../lib/errors';

/** A row of customer_profiles_latest as pg returns it (numeric as string, real as number, timestamptz as Date). */
export interface ProfileRow {
  customer_id: string;
  // bigint: pg returns it as a string.
  run_id: string;
  as_of: Date;
  computed_at: Date;
  churn_probability: number | null;
  churn_horizon_days: number;
  risk_band: string | null;
  churn_drivers: { feature: string; value: number | null; contribution: number; sentence: string }[];
  clv_expected_net_revenue: string | null;
  clv_lower: string | null;
  clv_upper: string | null;
  clv_horizon_months: number;
  p_alive: number | null;
  expected_orders: number | null;
  expected_spend_per_order: string | null;
  expected_next_order_at: Date | null;
  segment: string | null;
  rfm: Record<string, unknown> | null;
  price_sensitive: boolean | null;
  cluster_id: number | null;
  cluster_description: string | null;
  embedding: number[] | null;
  confidence: string;
  coverage: Record<string, unknown>;
  model_versions: Record<string, unknown>;
}

/**
 * The profile as consumers (CRM, support desk, campaign tools) read it: grouped by question, camelCase, money as
 * decimal strings so that no float rounding creeps in. The embedding is opt-in because few consumers need it.
 */
export function toConsumerProfile(r: ProfileRow, options: { embedding: boolean }) {
  return {
    customerId: r.customer_id,
    asOf: r.as_of.toISOString(),
    computedAt: r.computed_at.toISOString(),
    churn: {
      probability: r.churn_probability,
      horizonDays: r.churn_horizon_days,
      riskBand: r.risk_band,
      drivers: r.churn_drivers.map((d) => ({ feature: d.feature, contribution: d.contribution, sentence: d.sentence })),
    },
    clv: {
      expectedNetRevenue: r.clv_expected_net_revenue,
      interval: clvInterval(r),
      horizonMonths: r.clv_horizon_months,
      pAlive: r.p_alive,
      expectedOrders: r.expected_orders,
      expectedSpendPerOrder: r.expected_spend_per_order,
      expectedNextOrderAt: r.expected_next_order_at?.toISOString() ?? null,
    },
    segment: {
      name: r.segment,
      rfm: r.rfm,
      priceSensitive: r.price_sensitive,
      clusterId: r.cluster_id,
      clusterDescription: r.cluster_description,
    },
    ...(options.embedding ? { embedding: r.embedding } : {}),
    confidence: r.confidence,
    coverage: r.coverage,
    modelVersions: r.model_versions,
  };
}

/** The CLV interval with its level (recorded in the coverage); null for rows scored before intervals existed. */
function clvInterval(r: ProfileRow): { lower: string; upper: string; level: number | null } | null {
  if (r.clv_lower === null || r.clv_upper === null) return null;
  const clv = r.coverage.clv as { interval?: { level?: number } } | null | undefined;
  return { lower: r.clv_lower, upper: r.clv_upper, level: clv?.interval?.level ?? null };
}

/** The newest profile of a customer; a 404 that says whether the customer is unknown or just not scored yet. */
export async function loadProfile(db: Knex, customerId: string): Promise<ProfileRow> {
  const row = (await db('customer_profiles_latest').where({ customer_id: customerId }).first()) as ProfileRow | undefined;
  if (row) return row;
  return profileNotFound(db, customerId);
}

/** The 404 of a customer without a profile: it says whether the customer is unknown or just not scored yet. */
export async function profileNotFound(db: Knex, customerId: string): Promise<never> {
  const known = await db('customers').where({ customer_id: customerId }).first('customer_id');
  throw new NotFoundError(
    known
      ? `Customer ${customerId} has not been scored yet (customers are scored once they have an order; run foresight score)`
      : `Unknown customer ${customerId}`,
  );
}

export type ProfileDocument = ReturnType<typeof toConsumerProfile>;

/** The one profile document: what GET /customer/profile/:id answers and `foresight profile` prints. */
export async function profileDocument(db: Knex, customerId: string, options: { embedding: boolean }): Promise<ProfileDocument> {
  return toConsumerProfile(await loadProfile(db, customerId), options);
}
