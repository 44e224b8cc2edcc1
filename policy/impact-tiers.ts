import type { Knex } from 'knex';
import { toCents } from './money';
import type { PolicyParameters } from './parameters';
import type { Candidate } from './price-actions';

/** Why an action is high-impact (its status_reason while it waits for a person). */
export type ImpactReason = 'impact_incentive' | 'impact_clv' | 'impact_action_type' | 'impact_alert_open';

/** The status_reason of an action approved automatically because no impact tier applied. */
export const LOW_IMPACT = 'low_impact';

/**
 * The first impact tier an action meets, or null when it is low-impact. Compared in integer cents, like the
 * budget: incentive ≥ minIncentive, expected CLV ≥ minClv, the action type listed, or a monitoring alert open.
 */
export function impactReason(
  tiers: PolicyParameters['impactTiers'],
  candidate: Candidate,
  clvExpectedCents: number | null,
  alertOpen: boolean,
): ImpactReason | null {
  if (tiers.whileAlertOpen && alertOpen) return 'impact_alert_open';
  if (tiers.actionTypes.includes(candidate.actionType)) return 'impact_action_type';
  if (tiers.minIncentive !== null && candidate.incentiveCents >= toCents(tiers.minIncentive, 'impactTiers.minIncentive'))
    return 'impact_incentive';
  if (tiers.minClv !== null && clvExpectedCents !== null && clvExpectedCents >= toCents(tiers.minClv, 'impactTiers.minClv'))
    return 'impact_clv';
  return null;
}

/** Whether a monitoring alert is open (monitoring writes `alerts`; an open one holds every action for a person). */
export async function alertOpen(db: Knex): Promise<boolean> {
  const row = await db('alerts').where({ status: 'open' }).first('alert_id');
  return row !== undefined;
}
