import type { Knex } from 'knex';

/**
 * Scoring runs are published, not just written. A run is `running` while its partitions write their rows, and becomes
 * visible to readers in one UPDATE that sets `published_at` once every partition has finished; a run that cannot
 * finish is `failed` and never served. Several runs may share an as-of (a re-score writes a new run beside the
 * published one, which stays served until the new one is published), so rows are keyed by (run_id, customer_id).
 * `customer_profiles_latest` reads the newest published run only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('scoring_runs', (t) => {
    t.dropUnique(['as_of']);
    // Who started the run (a workflow's id and run id, or a CLI invocation): starting it again returns the same run.
    t.text('run_key');
    t.text('status').notNullable().defaultTo('running');
    // [{ partition, after, upTo }]: customer_id ranges (after, upTo] over the run's feature snapshot.
    t.jsonb('partitions').notNullable().defaultTo('[]');
    t.integer('customers_expected');
    // The newest order or session at or before as_of: every partition's data-age coverage is measured from it.
    t.timestamp('latest_event_at', { useTz: true });
    t.timestamp('published_at', { useTz: true });
    t.timestamp('failed_at', { useTz: true });
    t.text('failure');
    t.unique(['run_key']);
    t.index(['as_of']);
  });
  // Runs written before publication existed were complete when finished: they stay served.
  await knex.raw(`update scoring_runs set status = 'published', published_at = finished_at where finished_at is not null`);
  await knex.raw(
    `update scoring_runs set status = 'failed', failed_at = now(), failure = 'unfinished before publication' where finished_at is null`,
  );
  await knex.raw(`update scoring_runs set run_key = 'run-' || run_id`);
  await knex.raw(`alter table scoring_runs alter column run_key set not null`);
  await knex.raw(`alter table scoring_runs add constraint scoring_runs_status check (status in ('running', 'published', 'failed'))`);
  await knex.raw(
    `alter table scoring_runs add constraint scoring_runs_published check ((status = 'published') = (published_at is not null))`,
  );
  await knex.raw(
    'create index scoring_runs_published_as_of on scoring_runs (as_of desc, published_at desc) where published_at is not null',
  );

  // Which partitions of a run are written, by whom: written in the same transaction as the partition's rows.
  await knex.schema.createTable('scoring_run_partitions', (t) => {
    t.bigInteger('run_id').notNullable().references('scoring_runs.run_id').onDelete('CASCADE');
    t.integer('partition').notNullable();
    t.integer('customers').notNullable();
    t.text('scored_by').notNullable();
    t.integer('attempt').notNullable();
    t.timestamp('written_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['run_id', 'partition']);
  });

  await knex.raw('alter table customer_risk_scores drop constraint customer_risk_scores_pkey');
  await knex.raw('alter table customer_risk_scores add primary key (run_id, customer_id)');
  await knex.raw('create index customer_risk_scores_customer_as_of on customer_risk_scores (customer_id, as_of)');
  // Replaced in place (same columns), so it keeps the grants of migration 20261125000006.
  await knex.raw(`
    create or replace view customer_profiles_latest as
    select s.* from customer_risk_scores s
     where s.run_id = (select run_id from scoring_runs where published_at is not null
                        order by as_of desc, published_at desc limit 1)`);
}

export async function down(knex: Knex): Promise<void> {
  // First, so that nothing depends on the columns dropped below.
  await knex.raw(`
    create or replace view customer_profiles_latest as
    select distinct on (customer_id) * from customer_risk_scores order by customer_id, as_of desc`);
  // Unpublished rows and all but the newest published run of an as-of cannot live under the old key.
  await knex.raw(`delete from scoring_runs where published_at is null`);
  await knex.raw(`delete from scoring_runs r where exists (select 1 from scoring_runs n
                   where n.as_of = r.as_of and n.published_at > r.published_at)`);
  await knex.raw('drop index customer_risk_scores_customer_as_of');
  await knex.raw('alter table customer_risk_scores drop constraint customer_risk_scores_pkey');
  await knex.raw('alter table customer_risk_scores add primary key (customer_id, as_of)');
  await knex.schema.dropTable('scoring_run_partitions');
  await knex.raw('drop index scoring_runs_published_as_of');
  await knex.raw('alter table scoring_runs drop constraint scoring_runs_published');
  await knex.raw('alter table scoring_runs drop constraint scoring_runs_status');
  await knex.schema.alterTable('scoring_runs', (t) => {
    t.dropUnique(['run_key']);
    t.dropIndex(['as_of']);
    t.dropColumns('run_key', 'status', 'partitions', 'customers_expected', 'latest_event_at', 'published_at', 'failed_at', 'failure');
    t.unique(['as_of']);
  });
}
