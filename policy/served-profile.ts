import type { Knex } from 'knex';
import { profileNotFound, toConsumerProfile, type ProfileRow } from '../scoring/profile-document';
import { freshness } from '../scoring/profile-freshness';
import { openActionsFromJson, openActionsJson, type OpenActionJson } from './open-actions';

const LAST_COMPLETED_ORDER = `(select max(o.ordered_at) from orders o where o.customer_id = p.customer_id and o.status = 'completed')`;
const openActions = openActionsJson('p.customer_id');
// One statement, so one round trip per profile: the profile, the last completed order (for the fallback when the
// profile is stale) and the open actions.
const SERVED_PROFILE = `select p.*, ${LAST_COMPLETED_ORDER} as last_completed_order_at, ${openActions.sql} as open_actions
  from customer_profiles_latest p where p.customer_id = ?`;

type ServedRow = ProfileRow & { last_completed_order_at: Date | null; open_actions: OpenActionJson[] };

/**
 * What a served profile is made of, as read from the database: the parts that do not change with time, already
 * serialised, and what its staleness is computed from when it is served.
 */
export interface ServedProfileParts {
  /** The profile document (toConsumerProfile) as JSON. */
  profileJson: string;
  /** The customer's open actions as JSON. */
  openActionsJson: string;
  /** Until when (ms since the epoch) the open actions are: the earliest expiry among them. */
  openActionsValidUntil: number;
  asOf: Date;
  churnHorizonDays: number;
  lastCompletedOrderAt: Date | null;
}

/** Reads a customer's served profile; unknown or unscored: a 404. */
export async function readServedProfile(db: Knex, customerId: string, options: { embedding: boolean }): Promise<ServedProfileParts> {
  const { rows } = (await db.raw(SERVED_PROFILE, [...openActions.bindings, customerId])) as { rows: ServedRow[] };
  const row = rows[0];
  if (!row) return profileNotFound(db, customerId);
  const actions = openActionsFromJson(row.open_actions);
  return {
    profileJson: JSON.stringify(toConsumerProfile(row, options)),
    openActionsJson: JSON.stringify(actions),
    openActionsValidUntil: Math.min(...actions.map((a) => a.expiresAt.getTime())),
    asOf: row.as_of,
    churnHorizonDays: row.churn_horizon_days,
    lastCompletedOrderAt: row.last_completed_order_at,
  };
}

/**
 * The profile as GET /customer/profile answers it, as JSON: the profile document, its staleness against the freshness
 * contract at `now` (with the rule-based fallback when stale) and the customer's open actions.
 */
export function servedProfileJson(parts: ServedProfileParts, freshnessDays: number, now = new Date()): string {
  const fresh = freshness(parts, freshnessDays, now);
  // {...profile, ...fresh, openActions}, spliced from the parts' JSON: both objects are never empty.
  return `${parts.profileJson.slice(0, -1)},${JSON.stringify(fresh).slice(1, -1)},"openActions":${parts.openActionsJson}}`;
}
