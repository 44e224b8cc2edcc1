import type { Knex } from 'knex';

/**
 * The data-quality gate's verdicts: one row per check per source per gate run (a refresh's business key, e.g.
 * `refresh-2026-07-01`), kept so that `foresight quality` and the console can show what let a pipeline through.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('data_quality_checks', (t) => {
    t.bigIncrements('check_id');
    t.text('gate_run').notNullable();
    t.timestamp('as_of', { useTz: true }).notNullable();
    t.text('source').notNullable();
    t.text('check').notNullable();
    t.double('value');
    t.double('threshold');
    t.text('action').notNullable();
    t.text('status').notNullable();
    t.text('detail').notNullable();
    t.timestamp('checked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['gate_run', 'source', 'check']);
    t.index(['checked_at']);
  });
  await knex.raw(`alter table data_quality_checks add constraint data_quality_checks_action check (action in ('fail', 'warn'))`);
  await knex.raw(`alter table data_quality_checks add constraint data_quality_checks_status check (status in ('pass', 'warn', 'fail'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('data_quality_checks');
}
