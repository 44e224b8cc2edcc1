import type { Knex } from 'knex';
import { ordersKnownUntil } from '../ingestion/outcomes-known-until';
import { ConflictError } from '../lib/errors';
import { loadVersion } from './lifecycle';
import { parameterResolver } from './parameters';

/** The action whose churn threshold is tuned: the retention offer, the one that pays an incentive. */
const ACTION = 'retention_offer';
const THRESHOLD = 'minChurnProbability';
/** Thresholds 0, 0.01, …, 1: P(churn) is bucketed by hundredths, so each point's sums are exact. */
const STEPS = 100;

export interface ThresholdCostPoint {
  threshold: number;
  /** Churners below the threshold (no offer), and their expected CLV (the value at risk). */
  missedChurners: number;
  missedClv: string;
  /** What missing them costs: their CLV × the offer's response rate (the part an offer would have kept). */
  missedCost: string;
  /** Customers at or above the threshold who bought again anyway: their incentive is leakage. */
  falseAlarms: number;
  leakage: string;
  total: string;
}

export interface ThresholdCostCurve {
  versionId: number;
  policyKey: string;
  action: typeof ACTION;
  /** The version's own threshold for the action (its default, before segment overrides). */
  currentThreshold: number | null;
  /** The backtest: the latest published scoring run whose outcome window has ended; null when none has yet. */
  run: { runId: number; asOf: string; horizonDays: number; outcomesUntil: string; dataAsOf: string } | null;
  /** Why there is no curve (no run has matured yet), else null. */
  unavailable: string | null;
  customers: number;
  churned: number;
  points: ThresholdCostPoint[];
  /** The threshold with the smallest total cost (the lowest threshold among ties). */
  minimum: ThresholdCostPoint | null;
}

interface MaturedRun {
  run_id: string;
  as_of: Date;
  horizon_days: number;
  outcomes_until: Date;
}

/**
 * The cost of a churn threshold, from the latest matured scoring run: its predictions as they were served (out of
 * sample: the models had not seen what followed), and what each customer then did in the horizon. At threshold t,
 * missed churners (P < t, no purchase in the window) cost their expected net CLV of that run times the offer's
 * response rate (the part an offer would have kept: owners' estimate, as in the expected value); false alarms (P ≥ t,
 * purchased in the window) cost the incentive the version's retention offer would pay them (rate × conservative CLV,
 * capped, with the segment's overrides). Sums are in numeric. Per-customer predictions of the training backtests are
 * not stored, which is why the served runs are the backtest here.
 */
export async function thresholdCostCurve(db: Knex, versionId: number): Promise<ThresholdCostCurve> {
  const version = await loadVersion(db, versionId);
  const base = version.parameters.actions[ACTION];
  if (!base) throw new ConflictError(`Policy version ${versionId} has no ${ACTION} action: there is no churn threshold to tune`);
  const resolve = parameterResolver(version.parameters);
  const segments = [null, ...Object.keys(version.parameters.segments)];
  const offer = segments.map((segment) => {
    const action = resolve(segment)[ACTION]!;
    return { segment, rate: action.incentiveRate ?? 0, cap: action.incentiveCap ?? '0', response: action.responseRate };
  });
  const curve: ThresholdCostCurve = {
    versionId,
    policyKey: version.policyKey,
    action: ACTION,
    currentThreshold: base.thresholds[THRESHOLD] ?? null,
    run: null,
    unavailable: null,
    customers: 0,
    churned: 0,
    points: [],
    minimum: null,
  };

  // Outcomes are known up to the newest complete orders (and returns) export: the same rule as calibration and impact.
  const latest = await ordersKnownUntil(db);
  if (latest === null) return { ...curve, unavailable: 'No orders export has been ingested yet: no outcomes are known.' };
  const matured = (
    await db.raw<{ rows: MaturedRun[] }>(
      `select r.run_id, r.as_of, h.horizon_days, r.as_of + make_interval(days => h.horizon_days) as outcomes_until
         from (select distinct on (as_of) run_id, as_of from scoring_runs
                where published_at is not null order by as_of desc, published_at desc) r
         cross join lateral (select max(churn_horizon_days) as horizon_days from customer_risk_scores s where s.run_id = r.run_id) h
        where r.as_of + make_interval(days => h.horizon_days) <= :latest
        order by r.as_of desc limit 1`,
      { latest },
    )
  ).rows[0];
  if (!matured) {
    return {
      ...curve,
      unavailable:
        `No published scoring run has a full churn horizon of outcomes before the outcomes known so far (orders exported up to ${latest.toISOString()}): ` +
        'the curve needs predictions at least one horizon old.',
    };
  }

  const { rows } = await db.raw<{
    rows: { k: number; missed: number; missed_clv: string; missed_cost: string; alarms: number; leakage: string; total: string }[];
  }>(
    `with offer(segment, rate, cap, response) as (
       select * from unnest(:segments::text[], :rates::numeric[], :caps::numeric[], :responses::numeric[])),
     scored as (
       select least(floor(s.churn_probability::numeric * ${STEPS}), ${STEPS - 1})::int as bucket,
              coalesce(s.clv_expected_net_revenue, 0) as clv,
              coalesce(s.clv_expected_net_revenue, 0) * coalesce(o.response, d.response) as savable,
              not exists (select 1 from orders o
                           where o.customer_id = s.customer_id and o.status = 'completed'
                             and o.ordered_at > s.as_of and o.ordered_at <= :until::timestamptz) as churned,
              -- min(rate × conservative CLV, cap), to the cent: as policy/price-actions.ts prices the offer.
              least(floor(coalesce(o.rate, d.rate) * greatest(0, coalesce(least(s.clv_lower, s.clv_expected_net_revenue),
                                                                         s.clv_lower, s.clv_expected_net_revenue, 0)) * 100) / 100,
                    coalesce(o.cap, d.cap)) as incentive
         from customer_risk_scores s
         left join offer o on o.segment = s.segment
         cross join (select rate, cap, response from offer where segment is null) d
        where s.run_id = :runId and s.churn_probability is not null),
     buckets as (
       select bucket,
              count(*) filter (where churned)::int as churners, coalesce(sum(clv) filter (where churned), 0) as churner_clv,
              coalesce(sum(savable) filter (where churned), 0) as churner_savable,
              count(*) filter (where not churned)::int as stayers, coalesce(sum(incentive) filter (where not churned), 0) as stayer_incentive
         from scored group by bucket)
     select k,
            coalesce((select sum(churners) from buckets where bucket < k), 0)::int as missed,
            round(coalesce((select sum(churner_clv) from buckets where bucket < k), 0), 2)::text as missed_clv,
            round(coalesce((select sum(churner_savable) from buckets where bucket < k), 0), 2)::text as missed_cost,
            coalesce((select sum(stayers) from buckets where bucket >= k), 0)::int as alarms,
            round(coalesce((select sum(stayer_incentive) from buckets where bucket >= k), 0), 2)::text as leakage,
            round(coalesce((select sum(churner_savable) from buckets where bucket < k), 0)
                  + coalesce((select sum(stayer_incentive) from buckets where bucket >= k), 0), 2)::text as total
       from generate_series(0, ${STEPS}) k order by k`,
    {
      segments: offer.map((o) => o.segment),
      rates: offer.map((o) => String(o.rate)),
      caps: offer.map((o) => o.cap),
      responses: offer.map((o) => String(o.response)),
      runId: matured.run_id,
      until: matured.outcomes_until.toISOString(),
    },
  );
  const points = rows.map((r) => ({
    threshold: r.k / STEPS,
    missedChurners: r.missed,
    missedClv: r.missed_clv,
    missedCost: r.missed_cost,
    falseAlarms: r.alarms,
    leakage: r.leakage,
    total: r.total,
  }));
  // At threshold 0 every stayer is a false alarm; at 1 every churner is missed.
  const first = points[0]!;
  const last = points[points.length - 1]!;
  // Numeric strings with two decimals compare exactly as numbers of cents.
  const cents = (amount: string) => BigInt(amount.replace('.', ''));
  const minimum = points.reduce((best, p) => (cents(p.total) < cents(best.total) ? p : best), first);
  return {
    ...curve,
    run: {
      runId: Number(matured.run_id),
      asOf: matured.as_of.toISOString(),
      horizonDays: matured.horizon_days,
      outcomesUntil: matured.outcomes_until.toISOString(),
      dataAsOf: latest.toISOString(),
    },
    customers: first.falseAlarms + last.missedChurners,
    churned: last.missedChurners,
    points,
    minimum,
  };
}
