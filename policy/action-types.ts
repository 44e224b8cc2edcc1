/** What a policy can decide for a customer (the actions_type check constraint lists the same five). */
export const ACTION_TYPES = ['retention_offer', 'proactive_outreach', 'priority_support', 'campaign', 'win_back'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export function isActionType(value: unknown): value is ActionType {
  return (ACTION_TYPES as readonly unknown[]).includes(value);
}

/** Statuses of an action row: decided here, later moved on by approvals (approved, rejected, expired). */
export type ActionStatus =
  'proposed' | 'auto_approved' | 'pending_approval' | 'approved' | 'rejected' | 'expired' | 'suppressed' | 'holdout';

/** Statuses that commit budget and block the same action again while it is unexpired. */
export const OPEN_STATUSES: readonly ActionStatus[] = ['proposed', 'auto_approved', 'pending_approval', 'approved'];
