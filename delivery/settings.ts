import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { ValidationError } from '../lib/errors';
import type { Actor } from './subscriptions';

/**
 * The kill switch of every automated delivery. Paused deliveries are not failed: each delivery workflow asks before
 * each attempt and, while paused, waits and asks again without spending an attempt.
 */
export async function deliveriesPaused(db: Knex): Promise<boolean> {
  const row = (await db('delivery_settings').where({ id: 1 }).first('paused')) as { paused: boolean } | undefined;
  return row?.paused ?? false;
}

export async function setDeliveriesPaused(db: Knex, paused: boolean, reason: string, by: Actor): Promise<void> {
  if (!reason.trim()) throw new ValidationError('A reason is required to pause or resume deliveries', 'reason');
  await db.transaction(async (trx) => {
    const before = await deliveriesPaused(trx);
    await trx('delivery_settings').where({ id: 1 }).update({ paused, changed_by: by.actor, changed_at: trx.fn.now(), reason });
    await recordAudit(trx, {
      ...by,
      action: paused ? 'deliveries.pause' : 'deliveries.resume',
      target: 'delivery_settings',
      details: { before: { paused: before }, after: { paused }, reason },
    });
  });
}
