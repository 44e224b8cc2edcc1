import type { Knex } from 'knex';

/**
 * The batch output: one predictive profile per customer per scoring run (as_of). `customer_profiles_latest` is
 * what the API and campaign systems read; older runs stay for drift and impact analysis.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('scoring_runs', (t) => {
    t.bigIncrements('run_id');
    t.timestamp('as_of', { useTz: true }).notNullable();
    t.jsonb('model_versions').notNullable().defaultTo('{}');
    t.integer('customers_scored').notNullable().defaultTo(0);
    t.jsonb('summary').notNullable().defaultTo('{}');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.unique(['as_of']);
  });

  await knex.schema.createTable('customer_risk_scores', (t) => {
    t.bigInteger('run_id').notNullable().references('scoring_runs.run_id').onDelete('CASCADE');
    t.timestamp('as_of', { useTz: true }).notNullable();
    t.text('customer_id').notNullable().references('customers.customer_id');
    t.specificType('churn_probability', 'real');
    t.integer('churn_horizon_days').notNullable();
    t.text('risk_band');
    t.jsonb('churn_drivers').notNullable().defaultTo('[]');
    t.decimal('clv_expected_net_revenue', 14, 2);
    t.integer('clv_horizon_months').notNullable();
    t.specificType('p_alive', 'real');
    t.specificType('expected_orders', 'real');
    t.decimal('expected_spend_per_order', 14, 2);
    t.timestamp('expected_next_order_at', { useTz: true });
    t.text('segment');
    t.jsonb('rfm');
    t.boolean('price_sensitive');
    t.integer('cluster_id');
    t.text('cluster_description');
    t.specificType('embedding', 'real[]');
    // high | medium | low, with the reasons (cold start, sparse or stale data) and the fallback used.
    t.text('confidence').notNullable();
    t.jsonb('coverage').notNullable().defaultTo('{}');
    t.jsonb('model_versions').notNullable().defaultTo('{}');
    t.timestamp('computed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['customer_id', 'as_of']);
    t.index(['run_id']);
    t.index(['as_of', 'risk_band']);
  });

  await knex.raw(`
    create view customer_profiles_latest as
    select distinct on (customer_id) * from customer_risk_scores order by customer_id, as_of desc`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop view if exists customer_profiles_latest');
  await knex.schema.dropTableIfExists('customer_risk_scores');
  await knex.schema.dropTableIfExists('scoring_runs');
}
