import type { Knex } from 'knex';

/** The view as migration 20261125000004 defines it: its `*` is expanded when the view is created. */
const PROFILES_LATEST = `select distinct on (customer_id) * from customer_risk_scores order by customer_id, as_of desc`;

/**
 * A per-customer interval of the CLV forecast (clv_lower, clv_upper, at the level recorded in coverage.clv.interval):
 * policies compute incentives on the conservative end. customer_profiles_latest is replaced in place (`create or
 * replace` may append columns), so it shows the new columns and keeps the grants of migration 20261125000006.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('customer_risk_scores', (t) => {
    t.decimal('clv_lower', 14, 2);
    t.decimal('clv_upper', 14, 2);
  });
  await knex.raw(`create or replace view customer_profiles_latest as ${PROFILES_LATEST}`);
}

/** A view cannot lose columns in place: it is recreated, with migration 20261125000006's grants (read-only for both roles). */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop view if exists customer_profiles_latest');
  await knex.schema.alterTable('customer_risk_scores', (t) => {
    t.dropColumn('clv_lower');
    t.dropColumn('clv_upper');
  });
  await knex.raw(`create view customer_profiles_latest as ${PROFILES_LATEST}`);
  await knex.raw('revoke all on customer_profiles_latest from foresight_api, foresight_worker');
  await knex.raw('grant select on customer_profiles_latest to foresight_api, foresight_worker');
}
