import type { Knex } from 'knex';
import { OPEN_STATUSES } from './action-types';
import { customerContext, type CustomerContext, type ProfileInput } from './facts';
import { inHoldout } from './holdout';
import type { PolicyParameters } from './parameters';

const DAY_MS = 86_400_000;

export interface LoadedCustomers {
  customers: CustomerContext[];
  /** The newest scoring run among the profiles, and per customer the run their profile came from. */
  scoringRunId: number | null;
  asOf: Date | null;
  runOf: Map<string, number>;
}

/** Whether profiles carry a CLV interval (clv_lower): the conservative CLV falls back to the expected value if not. */
async function hasClvLower(db: Knex): Promise<boolean> {
  const row = await db('information_schema.columns')
    .where({ table_schema: db.raw('current_schema()'), table_name: 'customer_profiles_latest', column_name: 'clv_lower' })
    .first('column_name');
  return row !== undefined;
}

/**
 * Every customer of the latest published scores as a policy sees them: the profile, their orders up to the scores'
 * as-of (recency, orders in the last 90 days), open actions of any policy, contacts within the longest frequency-cap
 * window, active customer and segment suppressions, and whether they are in this policy's holdout.
 */
export async function loadCustomers(db: Knex, policyKey: string, parameters: PolicyParameters, now: Date): Promise<LoadedCustomers> {
  const clvLower = (await hasClvLower(db)) ? ', clv_lower::text as clv_lower' : '';
  const profiles = (
    await db.raw<{ rows: (ProfileInput & { run_id: string; as_of: Date })[] }>(
      `select customer_id, run_id, as_of, segment, cluster_id, price_sensitive, churn_probability, risk_band, p_alive,
              clv_expected_net_revenue::text as clv_expected_net_revenue${clvLower}, confidence, churn_drivers, model_versions
         from customer_profiles_latest order by customer_id`,
    )
  ).rows;
  if (profiles.length === 0) return { customers: [], scoringRunId: null, asOf: null, runOf: new Map() };

  const asOf = new Date(Math.max(...profiles.map((p) => p.as_of.getTime())));
  const orders = new Map<string, { last: Date | null; recent: number }>();
  for (const o of (
    await db.raw<{ rows: { customer_id: string; last_at: Date | null; recent: number }[] }>(
      `select customer_id, max(ordered_at) as last_at, (count(*) filter (where ordered_at > ?::timestamptz - interval '90 days'))::int as recent
         from orders where ordered_at <= ? group by customer_id`,
      [asOf, asOf],
    )
  ).rows)
    orders.set(o.customer_id, { last: o.last_at, recent: o.recent });

  const open = new Map<string, string[]>();
  for (const a of (
    await db.raw<{ rows: { customer_id: string; types: string[] }[] }>(
      `select customer_id, array_agg(distinct action_type) as types from actions
        where status = any(?) and expires_at > ? group by customer_id`,
      [[...OPEN_STATUSES], now],
    )
  ).rows)
    open.set(a.customer_id, a.types);

  const windowDays = Math.max(30, ...parameters.frequencyCaps.map((c) => c.days));
  const contacts = new Map<string, { actionType: string; at: number }[]>();
  for (const k of (
    await db.raw<{ rows: { customer_id: string; action_type: string; contacted_at: Date }[] }>(
      `select customer_id, action_type, contacted_at from contact_history where contacted_at > ? and contacted_at <= ?`,
      [new Date(now.getTime() - windowDays * DAY_MS), now],
    )
  ).rows) {
    const list = contacts.get(k.customer_id) ?? [];
    list.push({ actionType: k.action_type, at: k.contacted_at.getTime() });
    contacts.set(k.customer_id, list);
  }

  const suppressed = new Map<string, string[]>();
  for (const s of await activeSuppressions(db, now, ['customer', 'segment'])) {
    const key = `${s.scope}:${s.value}`;
    suppressed.set(key, [...(suppressed.get(key) ?? []), s.reason]);
  }

  const since30 = now.getTime() - 30 * DAY_MS;
  const runOf = new Map<string, number>();
  const customers = profiles.map((p) => {
    runOf.set(p.customer_id, Number(p.run_id));
    const o = orders.get(p.customer_id);
    const k = contacts.get(p.customer_id) ?? [];
    return customerContext(p, {
      daysSinceLastOrder: o?.last ? Math.floor((asOf.getTime() - o.last.getTime()) / DAY_MS) : null,
      ordersLast90Days: o?.recent ?? 0,
      openActionTypes: open.get(p.customer_id) ?? [],
      contacts: k,
      contactsLast30Days: k.filter((c) => c.at >= since30).length,
      suppressions: [
        ...(suppressed.get(`customer:${p.customer_id}`) ?? []),
        ...(p.segment === null ? [] : (suppressed.get(`segment:${p.segment}`) ?? [])),
      ],
      holdout: inHoldout(policyKey, p.customer_id, parameters.holdoutRate),
    });
  });
  return { customers, scoringRunId: Math.max(...runOf.values()), asOf, runOf };
}

export async function activeSuppressions(db: Knex, now: Date, scopes: string[]) {
  return (await db('suppressions')
    .whereIn('scope', scopes)
    .whereNull('lifted_at')
    .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', now))
    .orderBy('suppression_id')
    .select('scope', 'value', 'reason')) as { scope: string; value: string; reason: string }[];
}
