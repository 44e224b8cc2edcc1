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
 * The profile as GET /customer/profile answers it: the profile document, its staleness against the freshness
 * contract (with the rule-based fallback when stale) and the customer's open actions. Unknown or unscored: a 404.
 */
export async function servedProfile(db: Knex, customerId: string, options: { embedding: boolean; freshnessDays: number }) {
  const { rows } = (await db.raw(SERVED_PROFILE, [...openActions.bindings, customerId])) as { rows: ServedRow[] };
  const row = rows[0];
  if (!row) return profileNotFound(db, customerId);
  const profile = toConsumerProfile(row, options);
  const fresh = freshness(
    { asOf: row.as_of, churnHorizonDays: row.churn_horizon_days, lastCompletedOrderAt: row.last_completed_order_at },
    options.freshnessDays,
  );
  return { ...profile, ...fresh, openActions: openActionsFromJson(row.open_actions) };
}
