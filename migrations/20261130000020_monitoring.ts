import type { Knex } from 'knex';

/**
 * Monitoring after every scoring run (monitoring/run-monitoring.ts): one report per run with its figures (PSI per
 * feature and of the scores, segment stability and migration, coverage, the confidence mix, freshness), and alerts
 * that carry those figures (`detail`) and, when a person closes one, the reason. At most one alert of a kind is open at
 * a time (a partial unique index), so a retried monitoring run cannot open a second one.
 *
 * Privileges: workers write reports and alerts (default privileges); the API reads them and resolves an alert, which
 * notifies webhook subscribers in the same transaction (so it inserts the outbox event).
 */
const API = 'foresight_api';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('monitoring_reports', (t) => {
    t.bigIncrements('report_id');
    t.bigInteger('run_id').notNullable().unique().references('scoring_runs.run_id');
    t.timestamp('as_of', { useTz: true }).notNullable();
    // The run the figures compare against (the previous published run); null for the first run.
    t.bigInteger('reference_run_id').references('scoring_runs.run_id');
    t.jsonb('figures').notNullable();
    // The alert kinds whose thresholds this run breached.
    t.specificType('breaches', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.alterTable('alerts', (t) => {
    t.jsonb('detail').notNullable().defaultTo('{}');
    t.bigInteger('run_id').references('scoring_runs.run_id');
    t.text('resolved_reason');
  });
  await knex.raw(`create unique index alerts_one_open_per_kind on alerts (kind) where status = 'open'`);
  await knex.raw(`alter table alerts add constraint alerts_resolution
                  check ((status = 'resolved') = (resolved_at is not null and resolved_by is not null))`);

  await knex.raw(`grant insert on webhook_events to ${API}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`revoke insert on webhook_events from ${API}`);
  await knex.raw('alter table alerts drop constraint alerts_resolution');
  await knex.raw('drop index alerts_one_open_per_kind');
  await knex.schema.alterTable('alerts', (t) => {
    t.dropColumn('resolved_reason');
    t.dropColumn('run_id');
    t.dropColumn('detail');
  });
  await knex.schema.dropTableIfExists('monitoring_reports');
}
