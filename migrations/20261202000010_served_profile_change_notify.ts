import type { Knex } from 'knex';

/**
 * The API keeps served profiles in memory (policy/served-profile-cache.ts). A served profile is read from
 * customer_risk_scores of the newest published scoring run (scoring_runs), the customer's last completed order
 * (orders) and open actions (actions: proposed, approved, decided by a person or an evaluation, held, expired…), so
 * any statement that changes one of these tables notifies `foresight_served_profile_changed` when its transaction
 * commits, and each API process empties its cache.
 *
 * Statement-level, without a payload: these tables change in bulk (an ingested file, a scoring run's partitions, an
 * evaluation's thousands of actions), where a row-level trigger would queue a notification per row, and one
 * transaction's identical notifications are folded into one. The price is that any change empties the whole cache,
 * which refills at one read per customer; changes come in batches, so that is rare next to the reads it saves.
 * Suppressions, customers and identities are not in a served document (a suppression reaches it through the actions
 * it holds back or expires; lookups by identity are resolved in the database on every request).
 */
const TABLES = ['scoring_runs', 'customer_risk_scores', 'orders', 'actions'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function notify_served_profile_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('foresight_served_profile_changed', '');
      return null;
    end $$`);
  for (const table of TABLES)
    await knex.raw(`
      create trigger ${table}_served_profile_changed after insert or update or delete or truncate on ${table}
      for each statement execute function notify_served_profile_changed()`);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) await knex.raw(`drop trigger ${table}_served_profile_changed on ${table}`);
  await knex.raw('drop function notify_served_profile_changed()');
}
