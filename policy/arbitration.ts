import { ACTION_TYPES } from './action-types';
import type { CustomerContext } from './facts';
import type { PolicyParameters } from './parameters';
import type { Candidate } from './price-actions';

/** Why an eligible action cannot go out: recorded as a `suppressed` action so owners see what was held back. */
export type BlockReason = 'suppression' | 'frequency_cap';

export interface Blocked {
  candidate: Candidate;
  reason: BlockReason;
  detail: string;
}

export interface Arbitration {
  /** Candidates that may be taken, best expected value first. */
  eligible: Candidate[];
  blocked: Blocked[];
  /** Candidates dropped without a record: the same action is already open, or its expected value is too low. */
  dropped: { actionType: string; reason: 'open_action' | 'below_min_expected_value' }[];
}

const typeOrder = new Map(ACTION_TYPES.map((t, i) => [t, i]));

/** Best first: expected value, then the rule's priority, then the action types' order (so ties are deterministic). */
export function byExpectedValue(a: Candidate, b: Candidate): number {
  return b.expectedValue - a.expectedValue || b.priority - a.priority || typeOrder.get(a.actionType)! - typeOrder.get(b.actionType)!;
}

const DAY_MS = 86_400_000;

/**
 * Sorts one customer's candidates and applies what no rule may override: manual suppressions (customer, segment,
 * campaign), contact-frequency caps, one open action per type, and the minimum expected value.
 */
export function arbitrate(
  candidates: Candidate[],
  c: CustomerContext,
  parameters: PolicyParameters,
  campaignSuppressions: ReadonlyMap<string, string>,
  now: number,
): Arbitration {
  const out: Arbitration = { eligible: [], blocked: [], dropped: [] };
  for (const candidate of [...candidates].sort(byExpectedValue)) {
    const type = candidate.actionType;
    if (c.facts.openActionTypes.includes(type)) {
      out.dropped.push({ actionType: type, reason: 'open_action' });
      continue;
    }
    if (candidate.expectedValue <= parameters.minExpectedValue) {
      out.dropped.push({ actionType: type, reason: 'below_min_expected_value' });
      continue;
    }
    const suppression = c.facts.suppressions[0] ?? campaignSuppressions.get(candidate.campaign);
    if (suppression !== undefined) {
      out.blocked.push({ candidate, reason: 'suppression', detail: suppression });
      continue;
    }
    const cap = parameters.frequencyCaps.find((cap) => {
      if (cap.actionTypes.length > 0 && !cap.actionTypes.includes(type)) return false;
      const since = now - cap.days * DAY_MS;
      const counted = c.contacts.filter(
        (k) => k.at >= since && (cap.actionTypes.length === 0 || (cap.actionTypes as string[]).includes(k.actionType)),
      ).length;
      return counted >= cap.max;
    });
    if (cap) {
      const types = cap.actionTypes.length > 0 ? cap.actionTypes.join('/') : 'any action';
      out.blocked.push({ candidate, reason: 'frequency_cap', detail: `at most ${cap.max} ${types} per ${cap.days} days` });
      continue;
    }
    out.eligible.push(candidate);
  }
  return out;
}
