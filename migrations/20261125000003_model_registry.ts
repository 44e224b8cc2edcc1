import type { Knex } from 'knex';

/**
 * The model registry: every fitted model with its parameters, feature version, training window, metrics and
 * artifact, and its life cycle (candidate -> shadow -> champion -> retired). History is never deleted: rows cannot
 * be deleted (trigger), and every status change is an appended event with who made it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('model_registry', (t) => {
    t.bigIncrements('model_id');
    t.text('kind').notNullable();
    t.integer('version').notNullable();
    t.jsonb('parameters').notNullable().defaultTo('{}');
    t.text('feature_version');
    t.timestamp('training_from', { useTz: true });
    t.timestamp('training_to', { useTz: true });
    t.jsonb('metrics').notNullable().defaultTo('{}');
    // XGBoost JSON or fitted parameters: the estimator's toJSON(), enough to predict again.
    t.jsonb('artifact').notNullable();
    t.text('status').notNullable().defaultTo('candidate');
    t.text('created_by').notNullable();
    t.text('promoted_by');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('promoted_at', { useTz: true });
    t.unique(['kind', 'version']);
    t.index(['kind', 'status']);
  });
  await knex.raw(`alter table model_registry add constraint model_registry_status_check
                  check (status in ('candidate', 'shadow', 'champion', 'retired'))`);
  // At most one champion per kind.
  await knex.raw(`create unique index model_registry_one_champion on model_registry (kind) where status = 'champion'`);

  await knex.schema.createTable('model_registry_events', (t) => {
    t.bigIncrements('event_id');
    t.bigInteger('model_id').notNullable().references('model_registry.model_id');
    t.text('from_status');
    t.text('to_status').notNullable();
    t.text('actor').notNullable();
    t.text('reason');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.raw(`
    create function model_registry_keep_history() returns trigger language plpgsql as $$
    begin
      raise exception 'model registry history is never deleted (model %); retire it instead', old.model_id;
    end $$`);
  await knex.raw(`create trigger model_registry_no_delete before delete on model_registry
                  for each row execute function model_registry_keep_history()`);
  await knex.raw(`create trigger model_registry_events_no_delete before delete on model_registry_events
                  for each row execute function model_registry_keep_history()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('model_registry_events');
  await knex.schema.dropTableIfExists('model_registry');
  await knex.raw('drop function if exists model_registry_keep_history()');
}
