import type { Knex } from 'knex';

/** Churn probability bins of the risk distribution: ten of width 0.1, the last one closed (it holds 1.0). */
const PROBABILITY_BINS = 10;

export interface PortfolioOverview {
  /** Newest and oldest scoring instant among the latest profiles (they differ when some customers were not rescored). */
  asOf: string | null;
  oldestAsOf: string | null;
  customersScored: number;
  /** Σ P(churn) × expected net revenue over each customer's CLV horizon, summed in numeric: a decimal string. */
  revenueAtRisk: string;
  /** Σ expected net revenue (CLV), a decimal string. */
  expectedRevenue: string;
  /** Customers whose churn probability or CLV is missing: left out of both sums. */
  customersWithoutValue: number;
  riskBands: { band: string | null; customers: number; revenueAtRisk: string }[];
  churnProbability: { from: number; to: number; customers: number }[];
  segments: { segment: string | null; customers: number; expectedRevenue: string; revenueAtRisk: string }[];
}

// P(churn) is stored as real; cast to numeric so that every product and sum of money stays in numeric.
const AT_RISK = 'churn_probability::numeric * clv_expected_net_revenue';
const money = (expression: string) => `round(coalesce(sum(${expression}), 0), 2)::text`;

/** The portfolio as the latest profiles describe it (customer_profiles_latest), computed in SQL. */
export async function portfolioOverview(db: Knex): Promise<PortfolioOverview> {
  const [totals, bands, bins, segments] = await Promise.all([
    db.raw<{ rows: { as_of: Date | null; oldest: Date | null; n: number; at_risk: string; expected: string; without: number }[] }>(
      `select max(as_of) as as_of, min(as_of) as oldest, count(*)::int as n,
              ${money(AT_RISK)} as at_risk, ${money('clv_expected_net_revenue')} as expected,
              count(*) filter (where churn_probability is null or clv_expected_net_revenue is null)::int as without
         from customer_profiles_latest`,
    ),
    db.raw<{ rows: { band: string | null; n: number; at_risk: string }[] }>(
      `select risk_band as band, count(*)::int as n, ${money(AT_RISK)} as at_risk
         from customer_profiles_latest group by risk_band order by min(churn_probability) nulls last`,
    ),
    db.raw<{ rows: { bin: number; n: number }[] }>(
      `select least(width_bucket(churn_probability::float8, 0, 1, ${PROBABILITY_BINS}), ${PROBABILITY_BINS}) as bin, count(*)::int as n
         from customer_profiles_latest where churn_probability is not null group by 1`,
    ),
    db.raw<{ rows: { segment: string | null; n: number; expected: string; at_risk: string }[] }>(
      `select segment, count(*)::int as n, ${money('clv_expected_net_revenue')} as expected, ${money(AT_RISK)} as at_risk
         from customer_profiles_latest group by segment order by count(*) desc, segment`,
    ),
  ]);
  const total = totals.rows[0]!;
  const perBin = new Map(bins.rows.map((r) => [r.bin, r.n]));
  return {
    asOf: total.as_of?.toISOString() ?? null,
    oldestAsOf: total.oldest?.toISOString() ?? null,
    customersScored: total.n,
    revenueAtRisk: total.at_risk,
    expectedRevenue: total.expected,
    customersWithoutValue: total.without,
    riskBands: bands.rows.map((r) => ({ band: r.band, customers: r.n, revenueAtRisk: r.at_risk })),
    churnProbability: Array.from({ length: PROBABILITY_BINS }, (_, i) => ({
      from: i / PROBABILITY_BINS,
      to: (i + 1) / PROBABILITY_BINS,
      customers: perBin.get(i + 1) ?? 0,
    })),
    segments: segments.rows.map((r) => ({ segment: r.segment, customers: r.n, expectedRevenue: r.expected, revenueAtRisk: r.at_risk })),
  };
}
