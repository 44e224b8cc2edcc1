import type { Knex } from 'knex';

/**
 * The model life cycle on Temporal: retraining, shadow evaluation and promotion by a person.
 *
 * - `model_registry.training_run`: the retrain workflow that registered a model. Unique with the kind, so a retried
 *   training activity finds the model it already registered instead of adding another version.
 * - `shadow_scores`: a candidate's scores beside the champion's on the same snapshot. Never served: the profile
 *   views read customer_risk_scores only.
 * - `shadow_reports`: the comparison of a candidate with the champion (JSON and Markdown), one per candidate per
 *   evaluation run; a promotion refuses to go ahead without one (unless forced, with a reason).
 * - `model_promotions`: one row per promotion workflow: waiting, then approved, rejected, expired or refused.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('model_registry', (t) => {
    t.text('training_run');
    t.unique(['kind', 'training_run']);
  });

  await knex.schema.createTable('shadow_scores', (t) => {
    t.bigInteger('model_id').notNullable().references('model_registry.model_id');
    t.timestamp('as_of', { useTz: true }).notNullable();
    t.text('customer_id').notNullable();
    // Churn probability, or expected net revenue for CLV; null for segments, which assign a label only.
    t.double('score');
    // Risk band (churn) or segment (segments); null for CLV.
    t.text('label');
    t.primary(['model_id', 'as_of', 'customer_id']);
  });

  await knex.schema.createTable('shadow_reports', (t) => {
    t.bigIncrements('report_id');
    t.bigInteger('candidate_id').notNullable().references('model_registry.model_id');
    t.bigInteger('champion_id').references('model_registry.model_id');
    t.text('kind').notNullable();
    t.text('evaluation_run').notNullable();
    t.timestamp('as_of', { useTz: true }).notNullable();
    t.jsonb('report').notNullable();
    t.text('markdown').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['candidate_id', 'evaluation_run']);
  });

  await knex.schema.createTable('model_promotions', (t) => {
    t.text('workflow_id').primary();
    t.bigInteger('candidate_id').notNullable().references('model_registry.model_id');
    t.text('status').notNullable().defaultTo('waiting');
    t.timestamp('deadline_at', { useTz: true }).notNullable();
    t.text('forced_reason');
    t.text('decided_by');
    t.text('decided_role');
    t.text('reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('closed_at', { useTz: true });
    t.index(['candidate_id']);
  });
  await knex.raw(`alter table model_promotions add constraint model_promotions_status_check
                  check (status in ('waiting', 'approved', 'rejected', 'expired', 'refused'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('model_promotions');
  await knex.schema.dropTableIfExists('shadow_reports');
  await knex.schema.dropTableIfExists('shadow_scores');
  await knex.schema.alterTable('model_registry', (t) => {
    t.dropUnique(['kind', 'training_run']);
    t.dropColumn('training_run');
  });
}
