import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../lib/errors';

const DAY_MS = 86_400_000;

/** A customer id from a source's own id or an email, through customer_identities (404 when nobody matches). */
export async function resolveCustomerId(db: Knex, by: { externalId: string; source: string } | { email: string }): Promise<string> {
  const q = db('customer_identities').first('customer_id');
  if ('email' in by) {
    const email = by.email.trim().toLowerCase();
    if (email === '') throw new ValidationError('email must not be empty', 'email');
    q.where({ email_normalized: email }).orderBy(['source', 'external_id']);
  } else q.where({ source: by.source, external_id: by.externalId });
  const row = (await q) as { customer_id: string } | undefined;
  if (!row) throw new NotFoundError('Unknown customer: no identity matches');
  return row.customer_id;
}

/**
 * Whether a profile is older than the freshness contract and, when it is, the rule-based fallback a caller can use
 * instead of a stale model score: the recency rule of models/churn/baselines.ts (RecencyRuleBaseline: no completed
 * order for over the churn horizon is at risk), on today's orders rather than the stale run's snapshot — the caller
 * reads the customer's last completed order (`lastCompletedOrderAt`) in the same statement as the profile.
 */
export function freshness(
  profile: { asOf: Date; churnHorizonDays: number; lastCompletedOrderAt: Date | null },
  freshnessDays: number,
  now = new Date(),
) {
  const ageDays = (now.getTime() - profile.asOf.getTime()) / DAY_MS;
  const stale = ageDays > freshnessDays;
  if (!stale) return { stale, ageDays: Math.round(ageDays * 10) / 10, freshnessDays, fallback: null };
  const last = profile.lastCompletedOrderAt;
  const daysSinceLastOrder = last === null ? null : Math.floor((now.getTime() - last.getTime()) / DAY_MS);
  const atRisk = daysSinceLastOrder === null || daysSinceLastOrder > profile.churnHorizonDays;
  return {
    stale,
    ageDays: Math.round(ageDays * 10) / 10,
    freshnessDays,
    fallback: {
      method: `recency rule: no completed order for over ${profile.churnHorizonDays} days`,
      daysSinceLastOrder,
      churnScore: atRisk ? 1 : 0,
      riskBand: atRisk ? 'high' : 'low',
    },
  };
}
