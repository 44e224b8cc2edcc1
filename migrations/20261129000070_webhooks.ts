import type { Knex } from 'knex';

/**
 * Webhooks (README "Webhooks"): subscriptions, the outbox of events, one delivery per (event, subscription) with its
 * stable `webhook-id`, the append-only log of every attempt, and the kill switch.
 *
 * Subscription secrets are stored encrypted (AES-256-GCM under FORESIGHT_SECRET_KEY, lib/secret-box.ts): they must be
 * readable to sign, so they cannot be hashed like API keys. A rotation keeps the previous secret until its overlap ends.
 * Nothing here is deleted: a subscription is deactivated, a delivery ends as delivered, dead_letter or cancelled, and
 * a replay starts a new series of attempts on the same row (same webhook-id).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_subscriptions', (t) => {
    t.bigIncrements('subscription_id');
    t.text('url').notNullable();
    t.specificType('event_types', 'text[]').notNullable();
    t.text('description');
    t.boolean('active').notNullable().defaultTo(true);
    t.text('secret_encrypted').notNullable();
    t.text('previous_secret_encrypted');
    t.timestamp('previous_secret_expires_at', { useTz: true });
    t.timestamp('secret_rotated_at', { useTz: true });
    t.text('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('deactivated_at', { useTz: true });
    t.text('deactivated_reason');
  });
  await knex.raw(`alter table webhook_subscriptions add constraint webhook_subscriptions_event_types
                  check (cardinality(event_types) > 0)`);
  await knex.raw(`alter table webhook_subscriptions add constraint webhook_subscriptions_deactivation
                  check (active = (deactivated_at is null))`);

  await knex.schema.createTable('webhook_events', (t) => {
    t.text('event_id').primary();
    t.text('type').notNullable();
    t.jsonb('data').notNullable();
    // Whoever enqueues names the event's business identity (e.g. `action:123:approved`): enqueueing it again is a no-op.
    t.text('dedupe_key').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('fanned_out_at', { useTz: true });
  });
  await knex.raw(`create index webhook_events_pending on webhook_events (created_at) where fanned_out_at is null`);

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('delivery_id');
    t.text('webhook_id').notNullable().unique();
    t.text('event_id').notNullable().references('event_id').inTable('webhook_events');
    t.bigInteger('subscription_id').notNullable().references('subscription_id').inTable('webhook_subscriptions');
    t.text('status').notNullable().defaultTo('pending');
    // A replay starts series n + 1; the dispatcher starts one workflow per series (started_series catches up).
    t.integer('series').notNullable().defaultTo(1);
    t.integer('started_series').notNullable().defaultTo(0);
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('last_attempt_at', { useTz: true });
    t.integer('last_status_code');
    t.text('last_error');
    t.timestamp('delivered_at', { useTz: true });
    t.timestamp('dead_lettered_at', { useTz: true });
    t.text('cancelled_reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['event_id', 'subscription_id']);
  });
  await knex.raw(`alter table webhook_deliveries add constraint webhook_deliveries_status
                  check (status in ('pending', 'delivered', 'dead_letter', 'cancelled'))`);
  await knex.raw(`create index webhook_deliveries_to_start on webhook_deliveries (delivery_id) where started_series < series`);
  await knex.raw(`create index webhook_deliveries_by_status on webhook_deliveries (status, created_at)`);

  await knex.schema.createTable('webhook_delivery_attempts', (t) => {
    t.bigIncrements('attempt_id');
    t.bigInteger('delivery_id').notNullable().references('delivery_id').inTable('webhook_deliveries');
    t.integer('series').notNullable();
    t.integer('attempt').notNullable();
    t.timestamp('attempted_at', { useTz: true }).notNullable();
    t.integer('duration_ms').notNullable();
    t.integer('status_code');
    t.text('response_excerpt');
    t.text('error');
    t.text('outcome').notNullable();
    t.unique(['delivery_id', 'series', 'attempt']);
  });
  await knex.raw(`alter table webhook_delivery_attempts add constraint webhook_delivery_attempts_outcome
                  check (outcome in ('delivered', 'retry', 'gone'))`);
  // The delivery log is history: no UPDATE, DELETE or TRUNCATE (refuse_history_change() is migration 6's).
  for (const op of ['update', 'delete'])
    await knex.raw(`create trigger webhook_delivery_attempts_no_${op} before ${op} on webhook_delivery_attempts
                    for each row execute function refuse_history_change()`);
  await knex.raw(`create trigger webhook_delivery_attempts_no_truncate before truncate on webhook_delivery_attempts
                  for each statement execute function refuse_history_change()`);

  // One row: the kill switch of every automated delivery.
  await knex.schema.createTable('delivery_settings', (t) => {
    t.integer('id').primary().defaultTo(1);
    t.boolean('paused').notNullable().defaultTo(false);
    t.text('changed_by');
    t.timestamp('changed_at', { useTz: true });
    t.text('reason');
  });
  await knex.raw(`alter table delivery_settings add constraint delivery_settings_one_row check (id = 1)`);
  await knex('delivery_settings').insert({ id: 1, paused: false });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('delivery_settings');
  await knex.schema.dropTableIfExists('webhook_delivery_attempts');
  await knex.schema.dropTableIfExists('webhook_deliveries');
  await knex.schema.dropTableIfExists('webhook_events');
  await knex.schema.dropTableIfExists('webhook_subscriptions');
}
