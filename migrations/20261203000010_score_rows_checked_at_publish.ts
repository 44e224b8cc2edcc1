import type { Knex } from 'knex';

/**
 * customer_risk_scores is written by COPY, a million rows a run. Its two foreign keys ran two row triggers per row,
 * each locking the referenced row FOR KEY SHARE (so every customer row was dirtied by every run, and the run's own row
 * locked once per customer): 8.3 of 17.5 µs per row of a measured 55,665-row insert on this machine (bench/RESULTS.md,
 * "Scoring at 20,000 customers per second"). Both references hold by construction (a run's rows are written only
 * under a share lock of its running row, for customers of its feature snapshot), and publishScoringRun now checks
 * once per run, set-based, that every row's customer exists before it publishes. Runs are never deleted, so the
 * cascade had nothing to do. The run_id index repeated the primary key's leading column.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table customer_risk_scores drop constraint if exists customer_risk_scores_customer_id_foreign');
  await knex.raw('alter table customer_risk_scores drop constraint if exists customer_risk_scores_run_id_foreign');
  await knex.raw('drop index if exists customer_risk_scores_run_id_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('create index customer_risk_scores_run_id_index on customer_risk_scores (run_id)');
  await knex.raw(
    'alter table customer_risk_scores add constraint customer_risk_scores_run_id_foreign foreign key (run_id) references scoring_runs (run_id) on delete cascade',
  );
  await knex.raw(
    'alter table customer_risk_scores add constraint customer_risk_scores_customer_id_foreign foreign key (customer_id) references customers (customer_id)',
  );
}
