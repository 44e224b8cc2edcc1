import type { Knex } from 'knex';
import { ConflictError, ValidationError } from '../lib/errors';
import { EVENT_TYPE } from './subscriptions';

/**
 * The outbox. A step that decides something (an approved action) calls enqueueEvent inside its own transaction, so the
 * decision and its event commit together or not at all; the dispatcher (workflows/webhook-dispatch.ts) later fans
 * each event out to the subscriptions active at that moment, one delivery per (event, subscription), each with its
 * own `webhook-id` kept for every retry and replay.
 */
export interface WebhookEvent {
  eventId: string;
  type: string;
  data: Record<string, unknown>;
  dedupeKey: string;
  createdAt: Date;
}

/** A delivery whose current series has no workflow yet. */
export interface DeliveryToStart {
  deliveryId: number;
  webhookId: string;
  series: number;
}

/**
 * Writes one outbox row in `trx` (the caller's transaction). The same `dedupeKey` again returns the event already
 * written (a retried decision does not notify twice); with another type it is a conflict.
 */
export async function enqueueEvent(
  trx: Knex.Transaction,
  event: { type: string; data: Record<string, unknown>; dedupeKey: string },
): Promise<WebhookEvent> {
  if (typeof event.type !== 'string' || !EVENT_TYPE.test(event.type))
    throw new ValidationError(`type ${JSON.stringify(event.type)} is not an event type (e.g. action.approved)`, 'type');
  if (typeof event.dedupeKey !== 'string' || event.dedupeKey.trim() === '' || event.dedupeKey.length > 200)
    throw new ValidationError('dedupeKey must be a non-empty string of at most 200 characters', 'dedupeKey');
  if (event.data === null || typeof event.data !== 'object' || Array.isArray(event.data))
    throw new ValidationError('data must be a JSON object', 'data');
  const inserted = (await trx('webhook_events')
    .insert({
      event_id: trx.raw(`'evt_' || replace(gen_random_uuid()::text, '-', '')`),
      type: event.type,
      data: JSON.stringify(event.data),
      dedupe_key: event.dedupeKey,
    })
    .onConflict('dedupe_key')
    .ignore()
    .returning('*')) as Record<string, unknown>[];
  const row = inserted[0] ?? ((await trx('webhook_events').where({ dedupe_key: event.dedupeKey }).first()) as Record<string, unknown>);
  if (row.type !== event.type)
    throw new ConflictError(`dedupeKey ${event.dedupeKey} already names a ${String(row.type)} event`, { dedupeKey: event.dedupeKey });
  return {
    eventId: row.event_id as string,
    type: row.type as string,
    data: row.data as Record<string, unknown>,
    dedupeKey: row.dedupe_key as string,
    createdAt: row.created_at as Date,
  };
}

/**
 * Fans out up to `limit` events not yet fanned out (oldest first; concurrent dispatchers skip each other's rows):
 * a delivery for each active subscription that wants the type. Returns how many events it fanned out.
 */
export async function fanOutEvents(db: Knex, limit = 500): Promise<number> {
  const result = await db.raw(
    `with batch as (
       select event_id from webhook_events where fanned_out_at is null order by created_at, event_id limit ? for update skip locked
     ), deliveries as (
       insert into webhook_deliveries (webhook_id, event_id, subscription_id)
       select 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.event_id, s.subscription_id
         from webhook_events e
         join batch using (event_id)
         join webhook_subscriptions s on s.active and (e.type = any (s.event_types) or '*' = any (s.event_types))
       on conflict (event_id, subscription_id) do nothing
     )
     update webhook_events set fanned_out_at = now() where event_id in (select event_id from batch)`,
    [limit],
  );
  return (result as { rowCount: number }).rowCount;
}

/** Pending deliveries whose current series (the first, or a replay's) has no workflow started yet. */
export async function deliveriesToStart(db: Knex, limit = 100): Promise<DeliveryToStart[]> {
  const rows = (await db('webhook_deliveries')
    .select('delivery_id', 'webhook_id', 'series')
    .where({ status: 'pending' })
    .whereRaw('started_series < series')
    .orderBy('delivery_id')
    .limit(limit)) as { delivery_id: string; webhook_id: string; series: number }[];
  return rows.map((r) => ({ deliveryId: Number(r.delivery_id), webhookId: r.webhook_id, series: r.series }));
}

export async function markDeliveriesStarted(db: Knex, started: { deliveryId: number; series: number }[]): Promise<void> {
  await db.raw(
    `update webhook_deliveries d set started_series = greatest(d.started_series, s.series)
       from unnest(?::bigint[], ?::int[]) as s(delivery_id, series)
      where d.delivery_id = s.delivery_id`,
    [started.map((s) => s.deliveryId), started.map((s) => s.series)],
  );
}
