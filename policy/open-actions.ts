import { OPEN_STATUSES } from './action-types';

/**
 * A customer's open actions (proposed, waiting for approval or approved, unexpired), newest first, as one JSON array:
 * a scalar subquery for a statement that reads customers, `customerId` being the SQL of the customer's id there (one
 * binding: the open statuses). Money as text, so that no float creeps in; read the result with openActionsFromJson.
 */
export const openActionsJson = (customerId: string) => ({
  sql: `(
  select coalesce(json_agg(json_build_object(
           'action_id', a.action_id, 'action_type', a.action_type, 'campaign', a.campaign, 'status', a.status,
           'status_reason', a.status_reason, 'incentive_amount', a.incentive_amount::text,
           'decided_at', a.decided_at, 'expires_at', a.expires_at) order by a.decided_at desc), '[]'::json)
  from actions a
  where a.customer_id = ${customerId} and a.status = any(?::text[]) and a.expires_at > now())`,
  bindings: [[...OPEN_STATUSES]],
});

export interface OpenActionJson {
  action_id: number;
  action_type: string;
  campaign: string;
  status: string;
  status_reason: string | null;
  incentive_amount: string;
  decided_at: string;
  expires_at: string;
}

export function openActionsFromJson(rows: OpenActionJson[]) {
  return rows.map((r) => ({
    actionId: Number(r.action_id),
    actionType: r.action_type,
    campaign: r.campaign,
    status: r.status,
    statusReason: r.status_reason,
    incentiveAmount: r.incentive_amount,
    decidedAt: new Date(r.decided_at),
    expiresAt: new Date(r.expires_at),
  }));
}
