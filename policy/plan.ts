import type { ActionStatus } from './action-types';
import { arbitrate, byExpectedValue, type Arbitration } from './arbitration';
import { impactReason, LOW_IMPACT } from './impact-tiers';
import { BudgetLedger, moreBudget, type BudgetSpent, type LeftOut } from './budget';
import type { CustomerContext } from './facts';
import { parameterResolver, type PolicyParameters } from './parameters';
import { priceCandidates, receiverParameters, type Candidate } from './price-actions';
import { compileRules, type CompiledRules, type ConditionTrace } from './rule-evaluator';
import type { PolicyRule } from './rules';

/** Everything a plan depends on besides the customers: the same inputs give the same plan. */
export interface PlanSettings {
  policyKey: string;
  rules: PolicyRule[];
  parameters: PolicyParameters;
  killSwitch: boolean;
  /** A monitoring alert is open: with impactTiers.whileAlertOpen, every action waits for a person. */
  alertOpen?: boolean;
  /** Active campaign suppressions: campaign key → reason. */
  campaignSuppressions: ReadonlyMap<string, string>;
  spent: BudgetSpent;
  now: Date;
}

export interface PlannedAction {
  context: CustomerContext;
  candidate: Candidate;
  /** The rule's conditions as evaluated for this customer, with the thresholds they met. */
  conditions: ConditionTrace[];
  /** What the receiver of the action needs: amounts as decimal strings, the reason in words, the script hint. */
  parameters: Record<string, unknown>;
  status: Extract<ActionStatus, 'auto_approved' | 'pending_approval' | 'suppressed' | 'holdout'>;
  /**
   * low_confidence, kill_switch or an impact tier (impact_*: pending), low_impact (auto-approved), suppression,
   * frequency_cap or budget (suppressed).
   */
  statusReason: string | null;
  /** The arbitration: every candidate with its expected value, and what blocked or dropped the others. */
  arbitration: {
    candidates: { actionType: string; rule: string; expectedValue: number; incentive: number }[];
    blocked: { actionType: string; reason: string; detail: string }[];
    dropped: Arbitration['dropped'];
    budget: 'fits' | 'fallback' | 'no_budget_needed' | 'holdout';
  };
}

export interface Plan {
  actions: PlannedAction[];
  leftOutByBudget: LeftOut[];
  budget: ReturnType<BudgetLedger['remaining']> & { period: string; moreBudget: ReturnType<typeof moreBudget> };
  customersEvaluated: number;
}

const candidateSummary = (c: Candidate) => ({
  actionType: c.actionType,
  rule: c.rule,
  expectedValue: Math.round(c.expectedValue * 100) / 100,
  incentive: c.incentiveCents / 100,
});

/**
 * The one decision path, in memory: rules → priced candidates → per-customer arbitration → budgets in order of
 * expected value → status. evaluatePolicy writes its result; simulatePolicy summarises it; neither decides anything
 * itself, so a simulation shows exactly what activation does on the same data.
 */
export function planPolicy(customers: readonly CustomerContext[], s: PlanSettings): Plan {
  const evaluate = compileRules(s.rules);
  const resolve = parameterResolver(s.parameters);
  const now = s.now.getTime();
  const actions: PlannedAction[] = [];
  const queue: { context: CustomerContext; arbitration: Arbitration }[] = [];

  for (const context of customers) {
    const parameters = resolve(context.facts.segment);
    const candidates = priceCandidates(evaluate.fire(context.facts, parameters), parameters, context);
    if (candidates.length === 0) continue;
    const arbitration = arbitrate(candidates, context, s.parameters, s.campaignSuppressions, now);
    if (arbitration.eligible.length > 0) queue.push({ context, arbitration });
    else if (arbitration.blocked.length > 0) {
      const first = arbitration.blocked[0]!;
      actions.push(planned(evaluate, resolve, context, first.candidate, 'suppressed', first.reason, arbitration, 'no_budget_needed'));
    }
  }

  // Budgets go to the highest expected values first; a customer whose best action does not fit falls back to
  // their next eligible one that does (often an action without incentive), or to nothing.
  queue.sort((a, b) => byExpectedValue(a.arbitration.eligible[0]!, b.arbitration.eligible[0]!) || compareIds(a.context, b.context));
  const ledger = new BudgetLedger(s.parameters.budget, s.spent);
  const leftOutByBudget: LeftOut[] = [];
  for (const { context, arbitration } of queue) {
    const best = arbitration.eligible[0]!;
    const segment = context.facts.segment;
    if (context.facts.holdout) {
      actions.push(planned(evaluate, resolve, context, best, 'holdout', null, arbitration, 'holdout'));
      continue;
    }
    const taken = arbitration.eligible.find((c) => ledger.fits(segment, c.incentiveCents)) ?? null;
    if (taken !== best) leftOutByBudget.push({ customerId: context.facts.customerId, segment, wanted: best, fallback: taken });
    if (!taken) {
      actions.push(planned(evaluate, resolve, context, best, 'suppressed', 'budget', arbitration, 'fallback'));
      continue;
    }
    ledger.take(segment, taken.incentiveCents);
    const budget = taken !== best ? 'fallback' : taken.incentiveCents > 0 ? 'fits' : 'no_budget_needed';
    // Low confidence never acts automatically; the kill switch holds every automatic action for a person; a
    // high-impact action (the owner's impact tiers) waits for one too. Anything else is approved and says why.
    const reason =
      context.facts.confidence === 'low'
        ? 'low_confidence'
        : s.killSwitch
          ? 'kill_switch'
          : impactReason(s.parameters.impactTiers, taken, context.clvExpectedCents, s.alertOpen ?? false);
    const status = reason ? 'pending_approval' : 'auto_approved';
    actions.push(planned(evaluate, resolve, context, taken, status, reason ?? LOW_IMPACT, arbitration, budget));
  }

  actions.sort((a, b) => compareIds(a.context, b.context));
  return {
    actions,
    leftOutByBudget,
    budget: { period: ledger.period, ...ledger.remaining(), moreBudget: moreBudget(leftOutByBudget) },
    customersEvaluated: customers.length,
  };
}

function compareIds(a: CustomerContext, b: CustomerContext): number {
  return a.facts.customerId < b.facts.customerId ? -1 : a.facts.customerId > b.facts.customerId ? 1 : 0;
}

function planned(
  rules: CompiledRules,
  resolve: ReturnType<typeof parameterResolver>,
  context: CustomerContext,
  candidate: Candidate,
  status: PlannedAction['status'],
  statusReason: string | null,
  a: Arbitration,
  budget: PlannedAction['arbitration']['budget'],
): PlannedAction {
  return {
    context,
    candidate,
    conditions: rules.trace(candidate.ruleIndex, context.facts, resolve(context.facts.segment)),
    parameters: receiverParameters(candidate, context),
    status,
    statusReason,
    arbitration: {
      candidates: [...a.eligible, ...a.blocked.map((b) => b.candidate)].sort(byExpectedValue).map(candidateSummary),
      blocked: a.blocked.map((b) => ({ actionType: b.candidate.actionType, reason: b.reason, detail: b.detail })),
      dropped: a.dropped,
      budget,
    },
  };
}
