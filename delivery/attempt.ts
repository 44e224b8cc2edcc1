import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { NotFoundError } from '../lib/errors';
import { deliveriesPaused } from './settings';
import { webhookHeaders } from './signing';
import { signingSecrets } from './subscriptions';

/**
 * One attempt of one delivery: sign, POST, record. 2xx is delivered; 410 Gone deactivates the subscription (the
 * receiver said it wants no more); anything else, a timeout or a refused connection is a retry, which the delivery
 * workflow schedules. An attempt is recorded once under (delivery, series, attempt): a retried activity returns
 * what was recorded instead of sending again.
 */
export type AttemptOutcome = 'delivered' | 'retry' | 'gone' | 'paused' | 'cancelled';

export interface AttemptResult {
  outcome: AttemptOutcome;
  statusCode?: number | null;
  error?: string | null;
}

export interface AttemptInput {
  deliveryId: number;
  series: number;
  attempt: number;
  /** How long to wait for the receiver's answer (default 10 s). */
  timeoutMs?: number;
}

/** The actor of changes the delivery machinery makes by itself (a 410 deactivating a subscription). */
const SYSTEM_ACTOR = { actor: 'webhook-delivery', role: null };
const EXCERPT_CHARS = 500;

/** The first characters of a response body, without reading more than a few kilobytes of it. */
async function excerpt(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < EXCERPT_CHARS * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_CHARS);
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out waiting for the receiver';
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

export function classifyStatus(status: number): 'delivered' | 'gone' | 'retry' {
  if (status >= 200 && status < 300) return 'delivered';
  return status === 410 ? 'gone' : 'retry';
}

/** The request body: the Standard Webhooks envelope of the event, the same bytes on every attempt. */
export function webhookBody(event: { event_id: string; type: string; created_at: Date; data: unknown }): string {
  return JSON.stringify({ id: event.event_id, type: event.type, timestamp: event.created_at.toISOString(), data: event.data });
}

export async function attemptDelivery(db: Knex, key: Buffer, input: AttemptInput): Promise<AttemptResult> {
  if (await deliveriesPaused(db)) return { outcome: 'paused' };
  const where = { delivery_id: input.deliveryId, series: input.series, attempt: input.attempt };
  const recorded = (await db('webhook_delivery_attempts').where(where).first()) as Record<string, unknown> | undefined;
  if (recorded)
    return {
      outcome: recorded.outcome as AttemptOutcome,
      statusCode: recorded.status_code as number | null,
      error: recorded.error as string | null,
    };

  const row = (await db('webhook_deliveries as d')
    .join('webhook_events as e', 'e.event_id', 'd.event_id')
    .join('webhook_subscriptions as s', 's.subscription_id', 'd.subscription_id')
    .where('d.delivery_id', input.deliveryId)
    .first(
      'd.webhook_id',
      'd.status',
      'd.series',
      'd.subscription_id',
      'e.event_id',
      'e.type',
      'e.created_at',
      'e.data',
      's.url',
      's.active',
      's.secret_encrypted',
      's.previous_secret_encrypted',
      's.previous_secret_expires_at',
    )) as Record<string, unknown> | undefined;
  if (!row) throw new NotFoundError(`Webhook delivery ${input.deliveryId} does not exist`, { deliveryId: input.deliveryId });
  if (row.status === 'delivered') return { outcome: 'delivered' };
  if (row.status !== 'pending' || row.series !== input.series)
    return { outcome: 'cancelled', error: `delivery is ${String(row.status)} in series ${String(row.series)}` };
  if (!row.active) {
    await db('webhook_deliveries')
      .where({ delivery_id: input.deliveryId, status: 'pending' })
      .update({ status: 'cancelled', cancelled_reason: 'subscription deactivated' });
    return { outcome: 'cancelled', error: 'subscription deactivated' };
  }

  const at = new Date();
  const body = webhookBody(row as Parameters<typeof webhookBody>[0]);
  const headers = webhookHeaders(signingSecrets(key, row, at), row.webhook_id as string, at, body);
  let statusCode: number | null = null;
  let responseExcerpt: string | null = null;
  let error: string | null = null;
  try {
    const response = await fetch(row.url as string, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'Foresight-Webhooks/1' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(input.timeoutMs ?? 10_000),
    });
    statusCode = response.status;
    responseExcerpt = await excerpt(response).catch(() => null);
  } catch (err) {
    error = describe(err);
  }
  const outcome = statusCode === null ? 'retry' : classifyStatus(statusCode);

  await db.transaction(async (trx) => {
    await trx('webhook_delivery_attempts')
      .insert({
        ...where,
        attempted_at: at,
        duration_ms: Date.now() - at.getTime(),
        status_code: statusCode,
        response_excerpt: responseExcerpt,
        error,
        outcome,
      })
      .onConflict(['delivery_id', 'series', 'attempt'])
      .ignore();
    const update: Record<string, unknown> = {
      attempts: trx.raw('attempts + 1'),
      last_attempt_at: at,
      last_status_code: statusCode,
      last_error: error,
    };
    if (outcome === 'delivered') Object.assign(update, { status: 'delivered', delivered_at: trx.fn.now() });
    if (outcome === 'gone') Object.assign(update, { status: 'cancelled', cancelled_reason: 'receiver answered 410 Gone' });
    await trx('webhook_deliveries').where({ delivery_id: input.deliveryId, status: 'pending' }).update(update);
    if (outcome === 'gone') {
      const deactivated = await trx('webhook_subscriptions')
        .where({ subscription_id: row.subscription_id as number, active: true })
        .update({ active: false, deactivated_at: trx.fn.now(), deactivated_reason: 'receiver answered 410 Gone' });
      if (deactivated)
        await recordAudit(trx, {
          ...SYSTEM_ACTOR,
          action: 'webhook_subscription.deactivate',
          target: `webhook_subscription:${String(row.subscription_id)}`,
          details: { before: { active: true }, after: { active: false }, reason: 'receiver answered 410 Gone', webhookId: row.webhook_id },
        });
    }
  });
  return { outcome, statusCode, error };
}

/** After the last attempt of a series: the delivery waits in the dead letters for a manual replay. */
export async function deadLetterDelivery(db: Knex, input: { deliveryId: number; series: number }): Promise<void> {
  await db('webhook_deliveries')
    .where({ delivery_id: input.deliveryId, series: input.series, status: 'pending' })
    .update({ status: 'dead_letter', dead_lettered_at: db.fn.now() });
}
