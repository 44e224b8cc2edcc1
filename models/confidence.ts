/**
 * How much to trust one customer's profile. Every prediction carries this, so that consumers can treat cold-start,
 * sparse or stale customers differently (e.g. no automated offer on a `low`).
 *
 * - low: cold start (a single order, or first order less than `minTenureDays` ago) — churn and CLV fall back to the
 *   population prior, not the customer's own history — or stale data (the newest event of the data set is older
 *   than `staleAfterDays` at scoring time).
 * - medium: sparse history (fewer than `sparseOrders` orders) or no session data for the customer.
 * - high: otherwise.
 */
export type Confidence = 'high' | 'medium' | 'low';

export interface CoverageInput {
  ordersLifetime: number;
  tenureDays: number;
  /** Days since the customer's last session; NaN when the customer has no sessions at all. */
  daysSinceLastSession: number;
  /** Days between the newest event in the whole data set and the as-of time. */
  dataAgeDays: number;
}

export interface Coverage {
  confidence: Confidence;
  reasons: string[];
  /** The fallback used instead of the customer's own history, when one was. */
  fallback: string | null;
  ordersLifetime: number;
  tenureDays: number;
}

export interface ConfidencePolicy {
  minTenureDays: number;
  sparseOrders: number;
  staleAfterDays: number;
}

export const DEFAULT_CONFIDENCE_POLICY: ConfidencePolicy = { minTenureDays: 30, sparseOrders: 3, staleAfterDays: 14 };

export function assessCoverage(input: CoverageInput, policy: ConfidencePolicy = DEFAULT_CONFIDENCE_POLICY): Coverage {
  const reasons: string[] = [];
  let confidence: Confidence = 'high';
  let fallback: string | null = null;
  const lower = (to: Confidence) => {
    if (to === 'low' || (to === 'medium' && confidence === 'high')) confidence = to;
  };
  if (input.ordersLifetime <= 1) {
    reasons.push('cold start: a single order so far');
    fallback = 'population prior';
    lower('low');
  } else if (input.tenureDays < policy.minTenureDays) {
    reasons.push(`cold start: first order ${Math.round(input.tenureDays)} days ago`);
    fallback = 'population prior';
    lower('low');
  }
  if (input.dataAgeDays > policy.staleAfterDays) {
    reasons.push(`stale data: newest event is ${Math.round(input.dataAgeDays)} days old`);
    lower('low');
  }
  if (input.ordersLifetime > 1 && input.ordersLifetime < policy.sparseOrders) {
    reasons.push(`sparse history: ${input.ordersLifetime} orders`);
    lower('medium');
  }
  if (Number.isNaN(input.daysSinceLastSession)) {
    reasons.push('no session data');
    lower('medium');
  }
  return { confidence, reasons, fallback, ordersLifetime: input.ordersLifetime, tenureDays: Math.round(input.tenureDays) };
}
