import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import type { Role } from '../lib/roles';
import { open, seal } from '../lib/secret-box';

/**
 * Webhook subscriptions: a receiver's URL, the event types it wants (`*` for all) and its signing secret. The secret
 * is shown once, when created or rotated, and stored sealed (lib/secret-box.ts) because signing needs it back.
 * Every change is audited in the same transaction.
 */
export const SECRET_PURPOSE = 'webhook signing secret';
/** An event type: lower-case words joined by dots or underscores (`action.approved`), or `*` in a subscription. */
export const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
/** How long a rotated-out secret still signs, by default: a receiver has a day to switch. */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;

export interface Actor {
  actor: string;
  role: Role | null;
}

export interface Subscription {
  subscriptionId: number;
  url: string;
  eventTypes: string[];
  description: string | null;
  active: boolean;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  deactivatedAt: Date | null;
  deactivatedReason: string | null;
}

/** `whsec_` + base64 of 32 random bytes, the Standard Webhooks secret format. */
export function newWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(`url ${JSON.stringify(url)} is not a URL`, 'url');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ValidationError('url must be http or https', 'url');
  if (parsed.username || parsed.password) throw new ValidationError('url must not carry credentials', 'url');
  return parsed.toString();
}

function checkEventTypes(eventTypes: unknown): string[] {
  if (!Array.isArray(eventTypes) || eventTypes.length === 0)
    throw new ValidationError('eventTypes must name at least one type', 'eventTypes');
  for (const type of eventTypes)
    if (typeof type !== 'string' || (type !== '*' && !EVENT_TYPE.test(type)))
      throw new ValidationError(`eventTypes: ${JSON.stringify(type)} is not an event type (e.g. action.approved, or *)`, 'eventTypes');
  return [...new Set(eventTypes as string[])];
}

type Row = Record<string, unknown>;
function toSubscription(row: Row): Subscription {
  return {
    subscriptionId: Number(row.subscription_id),
    url: row.url as string,
    eventTypes: row.event_types as string[],
    description: (row.description as string | null) ?? null,
    active: row.active as boolean,
    previousSecretExpiresAt: (row.previous_secret_expires_at as Date | null) ?? null,
    createdAt: row.created_at as Date,
    deactivatedAt: (row.deactivated_at as Date | null) ?? null,
    deactivatedReason: (row.deactivated_reason as string | null) ?? null,
  };
}

/** Creates a subscription; the returned secret is the only time it is shown. */
export async function createSubscription(
  db: Knex,
  key: Buffer,
  input: { url: string; eventTypes: string[]; description?: string },
  by: Actor,
): Promise<{ subscription: Subscription; secret: string }> {
  const url = checkUrl(input.url);
  const eventTypes = checkEventTypes(input.eventTypes);
  const secret = newWebhookSecret();
  return db.transaction(async (trx) => {
    const [row] = await trx('webhook_subscriptions')
      .insert({
        url,
        event_types: eventTypes,
        description: input.description ?? null,
        secret_encrypted: seal(key, SECRET_PURPOSE, secret),
        created_by: by.actor,
      })
      .returning('*');
    const subscription = toSubscription(row as Row);
    await recordAudit(trx, {
      ...by,
      action: 'webhook_subscription.create',
      target: `webhook_subscription:${subscription.subscriptionId}`,
      details: { url, eventTypes },
    });
    return { subscription, secret };
  });
}

async function lockActive(trx: Knex.Transaction, subscriptionId: number): Promise<Row> {
  const row = (await trx('webhook_subscriptions').where({ subscription_id: subscriptionId }).forUpdate().first()) as Row | undefined;
  if (!row) throw new NotFoundError(`Webhook subscription ${subscriptionId} does not exist`, { subscriptionId });
  if (!row.active) throw new ConflictError(`Webhook subscription ${subscriptionId} is deactivated`, { subscriptionId });
  return row;
}

/**
 * A new secret; the old one keeps signing beside it for `overlapSeconds`, so a receiver that still has the old secret
 * verifies every delivery until it switches. Rotating again within the overlap drops the oldest secret at once.
 */
export async function rotateSecret(
  db: Knex,
  key: Buffer,
  subscriptionId: number,
  by: Actor,
  options: { overlapSeconds?: number } = {},
): Promise<{ subscription: Subscription; secret: string }> {
  const overlapSeconds = options.overlapSeconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
  if (!Number.isFinite(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > 30 * 24 * 3600)
    throw new ValidationError('overlapSeconds must be between 0 and 30 days', 'overlapSeconds');
  const secret = newWebhookSecret();
  return db.transaction(async (trx) => {
    const current = await lockActive(trx, subscriptionId);
    const [row] = await trx('webhook_subscriptions')
      .where({ subscription_id: subscriptionId })
      .update({
        previous_secret_encrypted: current.secret_encrypted,
        previous_secret_expires_at: trx.raw(`now() + make_interval(secs => ?)`, [overlapSeconds]),
        secret_encrypted: seal(key, SECRET_PURPOSE, secret),
        secret_rotated_at: trx.fn.now(),
      })
      .returning('*');
    await recordAudit(trx, {
      ...by,
      action: 'webhook_subscription.rotate_secret',
      target: `webhook_subscription:${subscriptionId}`,
      details: { overlapSeconds },
    });
    return { subscription: toSubscription(row as Row), secret };
  });
}

/** Stops deliveries to a subscription (kept, with why); its pending deliveries end as cancelled at their next try. */
export async function deactivateSubscription(db: Knex, subscriptionId: number, reason: string, by: Actor): Promise<Subscription> {
  if (!reason.trim()) throw new ValidationError('A reason is required to deactivate a subscription', 'reason');
  return db.transaction(async (trx) => {
    await lockActive(trx, subscriptionId);
    const [row] = await trx('webhook_subscriptions')
      .where({ subscription_id: subscriptionId })
      .update({ active: false, deactivated_at: trx.fn.now(), deactivated_reason: reason })
      .returning('*');
    await recordAudit(trx, {
      ...by,
      action: 'webhook_subscription.deactivate',
      target: `webhook_subscription:${subscriptionId}`,
      details: { before: { active: true }, after: { active: false }, reason },
    });
    return toSubscription(row as Row);
  });
}

export async function listSubscriptions(db: Knex): Promise<Subscription[]> {
  return ((await db('webhook_subscriptions').orderBy('subscription_id')) as Row[]).map(toSubscription);
}

/** The secrets a delivery is signed with now: the current one, and the previous one while its overlap lasts. */
export function signingSecrets(key: Buffer, row: Row, now: Date): string[] {
  const secrets = [open(key, SECRET_PURPOSE, row.secret_encrypted as string)];
  const expires = row.previous_secret_expires_at as Date | null;
  if (row.previous_secret_encrypted && expires && expires > now)
    secrets.push(open(key, SECRET_PURPOSE, row.previous_secret_encrypted as string));
  return secrets;
}
