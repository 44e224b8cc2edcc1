import type { Knex } from 'knex';

/**
 * The foundation schema: customers and their identities, orders and items, returns, sessions, and the
 * ingestion ledger. Money is numeric(14,2); every event table is indexed for per-customer time-range reads.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ingest_batches', (t) => {
    t.bigIncrements('batch_id');
    t.text('entity').notNullable();
    t.text('file_name').notNullable();
    // The same content ingested again maps to the same batch: re-ingesting changes nothing.
    t.text('file_sha256').notNullable();
    t.timestamp('first_ingested_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_ingested_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('times_ingested').notNullable().defaultTo(1);
    t.integer('rows_total').notNullable().defaultTo(0);
    t.integer('rows_accepted').notNullable().defaultTo(0);
    t.integer('rows_rejected').notNullable().defaultTo(0);
    t.timestamp('latest_event_at', { useTz: true });
    t.text('status').notNullable().defaultTo('running');
    t.unique(['entity', 'file_sha256']);
  });

  await knex.schema.createTable('ingest_rejects', (t) => {
    t.bigIncrements('reject_id');
    t.bigInteger('batch_id').notNullable().references('ingest_batches.batch_id').onDelete('CASCADE');
    t.text('file_name').notNullable();
    t.integer('line_no').notNullable();
    t.text('raw').notNullable();
    // [{ field, reason, value? }]: every problem of the row, not just the first.
    t.jsonb('reasons').notNullable();
    t.unique(['batch_id', 'line_no']);
  });

  await knex.schema.createTable('customers', (t) => {
    t.text('customer_id').primary();
    t.text('email_normalized');
    t.text('first_name');
    t.text('country');
    t.timestamp('signup_at', { useTz: true });
    // Unknown input columns land here, so nothing a source sends is lost.
    t.jsonb('metadata').notNullable().defaultTo('{}');
    // Created because an event named it before any customer row did.
    t.boolean('is_stub').notNullable().defaultTo(false);
    t.bigInteger('batch_id').references('ingest_batches.batch_id');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['email_normalized']);
  });

  await knex.schema.createTable('customer_identities', (t) => {
    t.text('source').notNullable();
    t.text('external_id').notNullable();
    t.text('email_normalized');
    t.text('customer_id').notNullable().references('customers.customer_id');
    // How the mapping was decided: explicit customer_id, email match, or a customer row merged by email.
    t.text('resolved_by').notNullable();
    t.bigInteger('batch_id').references('ingest_batches.batch_id');
    t.primary(['source', 'external_id']);
    t.index(['external_id']);
    t.index(['customer_id']);
  });

  await knex.schema.createTable('orders', (t) => {
    t.text('order_id').primary();
    t.text('customer_id').notNullable().references('customers.customer_id');
    t.timestamp('ordered_at', { useTz: true }).notNullable();
    t.decimal('amount', 14, 2).notNullable();
    t.string('currency', 3).notNullable();
    t.decimal('discount_amount', 14, 2).notNullable().defaultTo(0);
    t.text('channel');
    t.text('status').notNullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    // Lineage only: no FK trigger on the bulk-loaded event tables (ingestion always sets a real batch).
    t.bigInteger('batch_id');
    t.index(['customer_id', 'ordered_at']);
    t.index(['ordered_at']);
  });

  await knex.schema.createTable('order_items', (t) => {
    t.text('order_id').notNullable().references('orders.order_id').onDelete('CASCADE');
    t.text('sku').notNullable();
    t.text('category');
    t.integer('quantity').notNullable();
    t.decimal('unit_price', 14, 2).notNullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.bigInteger('batch_id');
    t.primary(['order_id', 'sku']);
  });

  await knex.schema.createTable('returns', (t) => {
    t.text('return_id').primary();
    t.text('order_id').references('orders.order_id');
    t.text('customer_id').notNullable().references('customers.customer_id');
    t.timestamp('returned_at', { useTz: true }).notNullable();
    t.decimal('amount', 14, 2).notNullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.bigInteger('batch_id');
    t.index(['customer_id', 'returned_at']);
    t.index(['order_id']);
  });

  await knex.schema.createTable('sessions', (t) => {
    t.text('session_id').primary();
    t.text('customer_id').notNullable().references('customers.customer_id');
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.integer('duration_s').notNullable();
    t.integer('page_views').notNullable();
    t.text('device');
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.bigInteger('batch_id');
    t.index(['customer_id', 'started_at']);
  });

  // Data quality per source: accepted and rejected rows over all batches, and freshness (latest event time).
  await knex.raw(`
    create view data_quality as
    select entity,
           count(*)::int as batches,
           sum(rows_accepted)::bigint as rows_accepted,
           sum(rows_rejected)::bigint as rows_rejected,
           max(latest_event_at) as latest_event_at,
           max(last_ingested_at) as last_ingested_at
      from ingest_batches
     group by entity`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop view if exists data_quality');
  for (const table of [
    'sessions',
    'returns',
    'order_items',
    'orders',
    'customer_identities',
    'customers',
    'ingest_rejects',
    'ingest_batches',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
