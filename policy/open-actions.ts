import type { Knex } from 'knex';
import { OPEN_STATUSES } from './action-types';

/** A customer's open actions (proposed, waiting for approval or approved, unexpired), newest first. */
export async function openActionsOf(db: Knex, customerId: string) {
  const rows = (await db('actions')
    .where({ customer_id: customerId })
    .whereIn('status', [...OPEN_STATUSES])
    .where('expires_at', '>', db.fn.now())
    .orderBy('decided_at', 'desc')
    .select('action_id', 'action_type', 'campaign', 'status', 'status_reason', 'incentive_amount', 'decided_at', 'expires_at')) as Record<
    string,
    unknown
  >[];
  return rows.map((r) => ({
    actionId: Number(r.action_id),
    actionType: r.action_type as string,
    campaign: r.campaign as string,
    status: r.status as string,
    statusReason: r.status_reason as string | null,
    incentiveAmount: r.incentive_amount as string,
    decidedAt: r.decided_at as Date,
    expiresAt: r.expires_at as Date,
  }));
}
