import type { Knex } from 'knex';

/**
 * Point-in-time feature snapshots: one row of feature values per (as_of, feature_version, customer).
 * feature_sets names the columns of each version; feature_snapshot_headers records each computed snapshot,
 * so that an empty snapshot is told apart from one never computed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('feature_sets', (t) => {
    t.text('feature_version').primary();
    // The names of the snapshot's values, in order.
    t.specificType('feature_names', 'text[]').notNullable();
    // Fingerprint of the SQL that computes the version: a changed definition under an old version is refused.
    t.text('definition_sha256').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('feature_snapshot_headers', (t) => {
    t.timestamp('as_of', { useTz: true }).notNullable();
    t.text('feature_version').notNullable().references('feature_sets.feature_version');
    t.text('population').notNullable();
    t.integer('customer_count').notNullable();
    t.timestamp('computed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['as_of', 'feature_version']);
  });

  // No foreign keys on the rows: a snapshot is written a million rows at a time and replaced as a whole.
  await knex.schema.createTable('feature_snapshots', (t) => {
    t.timestamp('as_of', { useTz: true }).notNullable();
    t.text('feature_version').notNullable();
    t.text('customer_id').notNullable();
    // In the order of feature_sets.feature_names; NULL where a feature has no value.
    t.specificType('values', 'real[]').notNullable();
    t.primary(['as_of', 'feature_version', 'customer_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['feature_snapshots', 'feature_snapshot_headers', 'feature_sets']) {
    await knex.schema.dropTableIfExists(table);
  }
}
