import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import type { Actor } from './subscriptions';

export interface DeliveryRecord {
  deliveryId: number;
  webhookId: string;
  eventId: string;
  eventType: string;
  subscriptionId: number;
  status: 'pending' | 'delivered' | 'dead_letter' | 'cancelled';
  series: number;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  deadLetteredAt: Date | null;
  cancelledReason: string | null;
}

export interface AttemptRecord {
  series: number;
  attempt: number;
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  responseExcerpt: string | null;
  error: string | null;
  outcome: 'delivered' | 'retry' | 'gone';
}

type Row = Record<string, unknown>;
const toDelivery = (r: Row): DeliveryRecord => ({
  deliveryId: Number(r.delivery_id),
  webhookId: r.webhook_id as string,
  eventId: r.event_id as string,
  eventType: r.type as string,
  subscriptionId: Number(r.subscription_id),
  status: r.status as DeliveryRecord['status'],
  series: r.series as number,
  attempts: r.attempts as number,
  lastStatusCode: (r.last_status_code as number | null) ?? null,
  lastError: (r.last_error as string | null) ?? null,
  deliveredAt: (r.delivered_at as Date | null) ?? null,
  deadLetteredAt: (r.dead_lettered_at as Date | null) ?? null,
  cancelledReason: (r.cancelled_reason as string | null) ?? null,
});

const deliveries = (db: Knex) =>
  db('webhook_deliveries as d').join('webhook_events as e', 'e.event_id', 'd.event_id').select('d.*', 'e.type');

/** Deliveries, newest first, optionally of one status (`dead_letter`: the dead letters) or one event. */
export async function listDeliveries(
  db: Knex,
  filter: { status?: DeliveryRecord['status']; eventId?: string; limit?: number } = {},
): Promise<DeliveryRecord[]> {
  const query = deliveries(db)
    .orderBy('d.delivery_id', 'desc')
    .limit(filter.limit ?? 100);
  if (filter.status) query.where('d.status', filter.status);
  if (filter.eventId) query.where('d.event_id', filter.eventId);
  return ((await query) as Row[]).map(toDelivery);
}

/** One delivery and its log: every attempt of every series, oldest first. */
export async function deliveryLog(db: Knex, deliveryId: number): Promise<{ delivery: DeliveryRecord; attempts: AttemptRecord[] }> {
  const row = (await deliveries(db).where('d.delivery_id', deliveryId).first()) as Row | undefined;
  if (!row) throw new NotFoundError(`Webhook delivery ${deliveryId} does not exist`, { deliveryId });
  const attempts = (await db('webhook_delivery_attempts').where({ delivery_id: deliveryId }).orderBy(['series', 'attempt'])) as Row[];
  return {
    delivery: toDelivery(row),
    attempts: attempts.map((a) => ({
      series: a.series as number,
      attempt: a.attempt as number,
      attemptedAt: a.attempted_at as Date,
      durationMs: a.duration_ms as number,
      statusCode: (a.status_code as number | null) ?? null,
      responseExcerpt: (a.response_excerpt as string | null) ?? null,
      error: (a.error as string | null) ?? null,
      outcome: a.outcome as AttemptRecord['outcome'],
    })),
  };
}

/**
 * A new series of attempts for a dead-lettered (or already delivered) delivery, with the same webhook-id, so a
 * receiver that did process it recognises the repeat. The dispatcher starts its workflow on its next pass.
 */
export async function replayDelivery(db: Knex, deliveryId: number, reason: string, by: Actor): Promise<DeliveryRecord> {
  if (!reason.trim()) throw new ValidationError('A reason is required to replay a delivery', 'reason');
  return db.transaction(async (trx) => {
    const row = (await trx('webhook_deliveries as d')
      .join('webhook_subscriptions as s', 's.subscription_id', 'd.subscription_id')
      .where('d.delivery_id', deliveryId)
      .forUpdate('d')
      .first('d.status', 'd.series', 'd.webhook_id', 's.active')) as Row | undefined;
    if (!row) throw new NotFoundError(`Webhook delivery ${deliveryId} does not exist`, { deliveryId });
    if (row.status === 'pending') throw new ConflictError(`Webhook delivery ${deliveryId} is still being delivered`, { deliveryId });
    if (!row.active) throw new ConflictError(`Webhook delivery ${deliveryId}'s subscription is deactivated`, { deliveryId });
    await trx('webhook_deliveries')
      .where({ delivery_id: deliveryId })
      .update({ status: 'pending', series: (row.series as number) + 1, dead_lettered_at: null, cancelled_reason: null });
    await recordAudit(trx, {
      ...by,
      action: 'webhook_delivery.replay',
      target: `webhook_delivery:${deliveryId}`,
      details: {
        webhookId: row.webhook_id,
        before: { status: row.status, series: row.series },
        after: { status: 'pending', series: (row.series as number) + 1 },
        reason,
      },
    });
    return toDelivery((await deliveries(trx).where('d.delivery_id', deliveryId).first()) as Row);
  });
}
