import type { Knex } from 'knex';

/**
 * Ordered ingestion: each ingested row keeps its version (`source_version`: the source's `updated_at`, else its
 * batch's export time) so that an older export never overwrites a newer one; each batch records its export time
 * and how many rows were held back as stale. A batch is `incomplete` until its last chunk is written, so a killed
 * ingestion is never left looking like a running one.
 */
const VERSIONED = ['customers', 'customer_identities', 'orders', 'order_items', 'returns', 'sessions'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ingest_batches', (t) => {
    t.timestamp('exported_at', { useTz: true });
    t.integer('rows_stale').notNullable().defaultTo(0);
    t.text('status').notNullable().defaultTo('incomplete').alter();
  });
  for (const table of VERSIONED) {
    await knex.schema.alterTable(table, (t) => {
      t.timestamp('source_version', { useTz: true });
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of VERSIONED) {
    await knex.schema.alterTable(table, (t) => {
      t.dropColumn('source_version');
    });
  }
  await knex.schema.alterTable('ingest_batches', (t) => {
    t.dropColumn('exported_at');
    t.dropColumn('rows_stale');
    t.text('status').notNullable().defaultTo('running').alter();
  });
}
