import { fromCents, toCents } from './money';
import type { PolicyParameters } from './parameters';
import type { Candidate } from './price-actions';

/** Incentive already committed this period (open and approved actions of the policy), in cents. */
export interface BudgetSpent {
  overallCents: number;
  bySegmentCents: ReadonlyMap<string, number>;
}

/** A customer the budget could not give their best action to; `fallback` is what they got instead, if anything. */
export interface LeftOut {
  customerId: string;
  segment: string | null;
  wanted: Candidate;
  fallback: Candidate | null;
}

/** The start of the budget period containing `now` (UTC: weeks start on Monday). */
export function periodStart(period: PolicyParameters['budget']['period'], now: Date): Date {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  if (period === 'month') return new Date(Date.UTC(y, m, 1));
  if (period === 'quarter') return new Date(Date.UTC(y, m - (m % 3), 1));
  const day = Date.UTC(y, m, now.getUTCDate());
  return new Date(day - ((now.getUTCDay() + 6) % 7) * 86_400_000);
}

/**
 * The budgets still open this period: overall and per segment, in cents (Infinity where there is no limit). Taking
 * an incentive must fit both.
 */
export class BudgetLedger {
  private overall: number;
  private readonly segments = new Map<string, number>();
  constructor(
    private readonly budget: PolicyParameters['budget'],
    spent: BudgetSpent,
  ) {
    this.overall = budget.overall === null ? Infinity : toCents(budget.overall, 'budget.overall') - spent.overallCents;
    for (const [segment, limit] of Object.entries(budget.segments))
      this.segments.set(segment, toCents(limit, `budget.segments.${segment}`) - (spent.bySegmentCents.get(segment) ?? 0));
  }

  fits(segment: string | null, cents: number): boolean {
    if (cents === 0) return true;
    const s = segment === null ? undefined : this.segments.get(segment);
    return cents <= this.overall && (s === undefined || cents <= s);
  }

  take(segment: string | null, cents: number): void {
    this.overall -= cents;
    const s = segment === null ? undefined : this.segments.get(segment);
    if (s !== undefined) this.segments.set(segment!, s - cents);
  }

  remaining(): { overall: string | null; segments: Record<string, string> } {
    return {
      overall: Number.isFinite(this.overall) ? fromCents(this.overall) : null,
      segments: Object.fromEntries([...this.segments].map(([s, c]) => [s, fromCents(c)])),
    };
  }

  get period() {
    return this.budget.period;
  }
}

/**
 * What more budget would buy: the customers left out, in the order they would be taken, with the extra incentive
 * each needs and the expected value each adds over what they got instead.
 */
export function moreBudget(leftOut: LeftOut[]) {
  let extraCents = 0;
  let gain = 0;
  const steps = leftOut.map((l) => {
    extraCents += l.wanted.incentiveCents - (l.fallback?.incentiveCents ?? 0);
    gain += l.wanted.expectedValue - (l.fallback?.expectedValue ?? 0);
    return { customerId: l.customerId, extraBudget: fromCents(extraCents), expectedValueGain: Math.round(gain * 100) / 100 };
  });
  return {
    customers: leftOut.length,
    extraBudgetForAll: fromCents(extraCents),
    expectedValueGainForAll: Math.round(gain * 100) / 100,
    /** Expected value per unit of extra budget over every left-out customer (0 when nobody was left out). */
    expectedValuePerUnit: extraCents > 0 ? Math.round((gain / (extraCents / 100)) * 1000) / 1000 : 0,
    /** The next customers the budget would reach, cumulatively. */
    next: steps.slice(0, 20),
  };
}
