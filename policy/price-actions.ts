import type { ActionType } from './action-types';
import type { CustomerContext, CustomerFacts } from './facts';
import { fromCents, toCents } from './money';
import type { ActionParameters, ResolvedParameters } from './parameters';
import type { FiredRule } from './rule-evaluator';

/** An action a rule made eligible, priced for arbitration. */
export interface Candidate {
  actionType: ActionType;
  rule: string;
  priority: number;
  campaign: string;
  incentiveCents: number;
  /** weight × P(churn) × CLV × responseRate − incentive − cost, in currency units (a ranking, not money summed). */
  expectedValue: number;
  ruleIndex: number;
  /** The action's parameters for the customer's segment, for receiverParameters. */
  action: ActionParameters;
}

const amounts = new WeakMap<ActionParameters, { cap: number; cost: number }>();

/** The action's cap and cost in cents, parsed once per evaluation (parameters are resolved once per segment). */
function centsOf(action: ActionParameters): { cap: number; cost: number } {
  let cents = amounts.get(action);
  if (!cents) {
    cents = {
      cap: action.incentiveCap === undefined ? 0 : toCents(action.incentiveCap, 'incentiveCap'),
      cost: toCents(action.cost, 'cost'),
    };
    amounts.set(action, cents);
  }
  return cents;
}

/** min(rate × conservative CLV, cap), rounded down to the cent: never above the cap, never negative. */
export function incentiveCents(action: ActionParameters, conservativeClvCents: number | null): number {
  if (action.incentiveRate === undefined || action.incentiveCap === undefined) return 0;
  const cap = centsOf(action).cap;
  const base = Math.max(0, conservativeClvCents ?? 0);
  return Math.min(Math.floor(action.incentiveRate * base), cap);
}

/** The customer's situation in words, for the people and systems acting on it: risk, then the strongest drivers. */
export function reasonInWords(facts: CustomerFacts): string {
  const risk =
    facts.churnProbability === null
      ? 'Churn risk unknown'
      : `Churn risk ${Math.round(facts.churnProbability * 100)}%${facts.riskBand ? ` (${facts.riskBand})` : ''}`;
  const drivers = facts.drivers.slice(0, 2);
  return drivers.length > 0 ? `${risk}: ${drivers.join('; ')}` : risk;
}

/** Script hints are looked up most specific first: price sensitivity, then the segment, then the default. */
export function scriptHint(action: ActionParameters, facts: CustomerFacts): string | null {
  const hints = action.scriptHints;
  if (!hints) return null;
  return (
    (facts.priceSensitive ? hints.price_sensitive : undefined) ??
    (facts.segment !== null ? hints[facts.segment] : undefined) ??
    hints.default ??
    null
  );
}

/** What the receiver of the action needs: amounts as decimal strings, the reason in words, the script hint. */
export function receiverParameters(candidate: Candidate, c: CustomerContext): Record<string, unknown> {
  const { action, incentiveCents: incentive, campaign } = candidate;
  const f = c.facts;
  switch (candidate.actionType) {
    case 'retention_offer':
    case 'win_back':
      return {
        incentive: fromCents(incentive),
        incentiveRate: action.incentiveRate ?? null,
        incentiveCap: action.incentiveCap ?? null,
        clvBasis: f.clvLower !== null ? 'clv_lower' : 'clv_expected',
        conservativeClv: c.clvConservativeCents === null ? null : fromCents(c.clvConservativeCents),
        reason: reasonInWords(f),
      };
    case 'proactive_outreach':
      return { task: 'crm_outreach', reason: reasonInWords(f), scriptHint: scriptHint(action, f) };
    case 'priority_support':
      return { queue: campaign, reason: reasonInWords(f) };
    case 'campaign':
      return { campaign, priceSensitive: f.priceSensitive };
  }
}

/**
 * Prices the fired rules as candidates, one per action type (the highest-priority rule that fired for it, then the
 * first listed). A customer without a churn probability or CLV has no expected value and gets no candidate.
 */
export function priceCandidates(fired: FiredRule[], parameters: ResolvedParameters, c: CustomerContext): Candidate[] {
  const p = c.facts.churnProbability;
  const clv = c.clvExpectedCents;
  if (p === null || clv === null) return [];
  const byType = new Map<ActionType, FiredRule>();
  for (const r of fired) {
    const seen = byType.get(r.actionType);
    if (!seen || r.priority > seen.priority) byType.set(r.actionType, r);
  }
  const candidates: Candidate[] = [];
  for (const [type, r] of byType) {
    const action = parameters[type]!;
    const incentive = incentiveCents(action, c.clvConservativeCents);
    const campaign = c.facts.priceSensitive && action.priceSensitiveCampaign ? action.priceSensitiveCampaign : action.campaign;
    const cost = centsOf(action).cost;
    const expectedValue = (action.weight * p * clv * action.responseRate - incentive - cost) / 100;
    candidates.push({
      actionType: type,
      rule: r.rule,
      priority: r.priority,
      campaign,
      incentiveCents: incentive,
      expectedValue,
      ruleIndex: r.index,
      action,
    });
  }
  return candidates;
}
