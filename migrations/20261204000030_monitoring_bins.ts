import type { Knex } from 'knex';

/**
 * monitoring_reports.bins: the run's own distributions as PSI bins (monitoring/figures.ts RunBins), kept with its
 * report so the next run's monitoring compares with them instead of reloading this run's snapshot and scores (about
 * 12 of 21 s at a million customers). Null for reports written before: those runs are read again, as they were.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('monitoring_reports', (t) => {
    t.jsonb('bins');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('monitoring_reports', (t) => {
    t.dropColumn('bins');
  });
}
