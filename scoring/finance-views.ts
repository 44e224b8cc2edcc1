import type { Knex } from 'knex';
import { csvText } from '../lib/csv';

/** Where a customer's acquisition channel comes from: the customers file's `acquisition_channel` column, kept as metadata. */
export const CHANNEL_SOURCE = "customers.metadata->>'acquisition_channel'";
const NO_CHANNEL = 'unknown';

export interface SegmentFinance {
  segment: string | null;
  customers: number;
  /** Σ expected net revenue over the CLV horizon (decimal string, summed in numeric). */
  expectedRevenue: string;
  /** Σ P(churn) × expected net revenue (decimal string, in numeric). */
  revenueAtRisk: string;
  /** The expected revenue less the revenue at risk: what is expected to stay if nothing is done. */
  expectedRevenueRetained: string;
  averageClv: string | null;
}

export interface ChannelFinance {
  channel: string;
  customers: number;
  expectedRevenue: string;
  averageClv: string | null;
  /** The configured cost of acquiring one customer through the channel; null when none is configured. */
  acquisitionCost: string | null;
  /** Average CLV less the acquisition cost, per customer. */
  clvLessAcquisitionCost: string | null;
  /** Average CLV / acquisition cost (rounded to 2 decimals); null without a cost, or for a cost of 0. */
  clvToAcquisitionCost: string | null;
}

export interface FinanceViews {
  asOf: string | null;
  /** The CLV horizons (months) of the profiles summed: one, unless models with different horizons scored them. */
  clvHorizonMonths: number[];
  segments: SegmentFinance[];
  channels: ChannelFinance[];
  channelSource: string;
  /** Channels that have a cost configured, whether or not any customer came through them. */
  configuredChannels: string[];
}

const money = (expression: string) => `round(coalesce(sum(${expression}), 0), 2)::text`;
const AT_RISK = 'p.churn_probability::numeric * p.clv_expected_net_revenue';

/**
 * What finance reads, from the latest profile of each customer (customer_profiles_latest), every sum in numeric:
 * expected revenue and revenue at risk by segment over the CLV horizon, and CLV against the configured acquisition
 * cost (decimal strings per channel, lib/config.ts FORESIGHT_ACQUISITION_COSTS) by acquisition channel.
 */
export async function financeViews(db: Knex, acquisitionCosts: Readonly<Record<string, string>>): Promise<FinanceViews> {
  const costs = JSON.stringify(Object.entries(acquisitionCosts).map(([channel, cost]) => ({ channel, cost })));
  const [totals, segments, channels] = await Promise.all([
    db.raw<{ rows: { as_of: Date | null; horizons: number[] | null }[] }>(
      `select max(as_of) as as_of, array_agg(distinct clv_horizon_months order by clv_horizon_months) as horizons
         from customer_profiles_latest`,
    ),
    db.raw<{ rows: { segment: string | null; n: number; expected: string; at_risk: string; retained: string; average: string | null }[] }>(
      `select p.segment, count(*)::int as n, ${money('p.clv_expected_net_revenue')} as expected, ${money(AT_RISK)} as at_risk,
              ${money(`p.clv_expected_net_revenue - ${AT_RISK}`)} as retained,
              round(avg(p.clv_expected_net_revenue), 2)::text as average
         from customer_profiles_latest p group by p.segment order by sum(${AT_RISK}) desc nulls last, p.segment`,
    ),
    db.raw<{
      rows: {
        channel: string;
        n: number;
        expected: string;
        average: string | null;
        cost: string | null;
        less: string | null;
        ratio: string | null;
      }[];
    }>(
      `with cost as (select channel, cost from jsonb_to_recordset(?::jsonb) as c(channel text, cost numeric)),
       per_channel as (
         select coalesce(nullif(c.metadata->>'acquisition_channel', ''), ?) as channel, count(*)::int as n,
                ${money('p.clv_expected_net_revenue')} as expected, avg(p.clv_expected_net_revenue) as average
           from customer_profiles_latest p join customers c using (customer_id) group by 1)
       select pc.channel, pc.n, pc.expected, round(pc.average, 2)::text as average, k.cost::text as cost,
              round(pc.average - k.cost, 2)::text as less, round(pc.average / nullif(k.cost, 0), 2)::text as ratio
         from per_channel pc left join cost k using (channel) order by pc.n desc, pc.channel`,
      [costs, NO_CHANNEL],
    ),
  ]);
  const total = totals.rows[0];
  return {
    asOf: total?.as_of?.toISOString() ?? null,
    clvHorizonMonths: (total?.horizons ?? []).filter((h) => h !== null),
    segments: segments.rows.map((r) => ({
      segment: r.segment,
      customers: r.n,
      expectedRevenue: r.expected,
      revenueAtRisk: r.at_risk,
      expectedRevenueRetained: r.retained,
      averageClv: r.average,
    })),
    channels: channels.rows.map((r) => ({
      channel: r.channel,
      customers: r.n,
      expectedRevenue: r.expected,
      averageClv: r.average,
      acquisitionCost: r.cost,
      clvLessAcquisitionCost: r.less,
      clvToAcquisitionCost: r.ratio,
    })),
    channelSource: CHANNEL_SOURCE,
    configuredChannels: Object.keys(acquisitionCosts).sort(),
  };
}

/** One finance table as CSV. */
export function financeCsv(views: FinanceViews, table: 'segments' | 'channels'): string {
  if (table === 'segments')
    return csvText([
      ['segment', 'customers', 'expected_revenue', 'revenue_at_risk', 'expected_revenue_retained', 'average_clv'],
      ...views.segments.map((s) => [s.segment, s.customers, s.expectedRevenue, s.revenueAtRisk, s.expectedRevenueRetained, s.averageClv]),
    ]);
  return csvText([
    ['channel', 'customers', 'expected_revenue', 'average_clv', 'acquisition_cost', 'clv_less_acquisition_cost', 'clv_to_acquisition_cost'],
    ...views.channels.map((c) => [
      c.channel,
      c.customers,
      c.expectedRevenue,
      c.averageClv,
      c.acquisitionCost,
      c.clvLessAcquisitionCost,
      c.clvToAcquisitionCost,
    ]),
  ]);
}
