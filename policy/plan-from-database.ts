import type { Knex } from 'knex';
import { OPEN_STATUSES } from './action-types';
import { periodStart, type BudgetSpent } from './budget';
import { alertOpen } from './impact-tiers';
import { killSwitchOn } from './kill-switch';
import type { PolicyVersion } from './lifecycle';
import { activeSuppressions, loadCustomers, type LoadedCustomers } from './load-customers';
import { toCents } from './money';
import { planPolicy, type Plan } from './plan';

/** Incentive committed by the policy's open and approved actions this period, summed by Postgres in numeric. */
async function budgetSpent(db: Knex, version: PolicyVersion, now: Date): Promise<BudgetSpent> {
  const rows = (await db('actions')
    .where({ policy_key: version.policyKey })
    .whereIn('status', [...OPEN_STATUSES])
    .where('decided_at', '>=', periodStart(version.parameters.budget.period, now))
    .groupBy('segment')
    .select('segment', db.raw('sum(incentive_amount)::text as spent'))) as { segment: string | null; spent: string }[];
  const bySegmentCents = new Map<string, number>();
  let overallCents = 0;
  for (const r of rows) {
    const cents = toCents(r.spent, 'actions.incentive_amount');
    overallCents += cents;
    if (r.segment !== null) bySegmentCents.set(r.segment, cents);
  }
  return { overallCents, bySegmentCents };
}

/** Reads what a plan depends on (customers, budget spent, kill switch, campaign suppressions) and plans. */
export async function planFromDatabase(db: Knex, version: PolicyVersion, now: Date): Promise<{ plan: Plan; loaded: LoadedCustomers }> {
  const loaded = await loadCustomers(db, version.policyKey, version.parameters, now);
  const campaigns = new Map<string, string>();
  for (const s of await activeSuppressions(db, now, ['campaign'])) if (!campaigns.has(s.value)) campaigns.set(s.value, s.reason);
  const plan = planPolicy(loaded.customers, {
    policyKey: version.policyKey,
    rules: version.rules,
    parameters: version.parameters,
    killSwitch: await killSwitchOn(db),
    alertOpen: await alertOpen(db),
    campaignSuppressions: campaigns,
    spent: await budgetSpent(db, version, now),
    now,
  });
  return { plan, loaded };
}
