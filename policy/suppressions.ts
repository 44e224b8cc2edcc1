import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { NotFoundError, ValidationError } from '../lib/errors';
import type { Actor } from './actor';

export type SuppressionScope = 'customer' | 'segment' | 'campaign';

/** Holds back every action for a customer, a segment or a campaign until it expires or is lifted (audited). */
export async function addSuppression(
  db: Knex,
  s: { scope: SuppressionScope; value: string; reason: string; expiresAt: Date | null },
  actor: Actor,
): Promise<number> {
  if (!['customer', 'segment', 'campaign'].includes(s.scope))
    throw new ValidationError('scope must be customer, segment or campaign', 'scope');
  if (s.value.trim() === '') throw new ValidationError('value is required (the customer id, segment or campaign)', 'value');
  if (s.reason.trim() === '') throw new ValidationError('reason is required for a suppression', 'reason');
  if (s.expiresAt !== null && s.expiresAt.getTime() <= Date.now()) throw new ValidationError('expiresAt is in the past', 'expiresAt');
  return db.transaction(async (trx) => {
    const [row] = await trx('suppressions')
      .insert({ scope: s.scope, value: s.value, reason: s.reason, expires_at: s.expiresAt, created_by: actor.name })
      .returning<{ suppression_id: string }[]>('suppression_id');
    const id = Number(row!.suppression_id);
    await recordAudit(trx, {
      actor: actor.name,
      role: actor.role,
      action: 'suppression.added',
      target: `suppression:${id}`,
      details: { ...s, expiresAt: s.expiresAt?.toISOString() ?? null },
    });
    return id;
  });
}

export async function liftSuppression(db: Knex, id: number, actor: Actor, reason: string): Promise<void> {
  await db.transaction(async (trx) => {
    const lifted = await trx('suppressions')
      .where({ suppression_id: id })
      .whereNull('lifted_at')
      .update({ lifted_at: trx.fn.now(), lifted_by: actor.name });
    if (lifted === 0) throw new NotFoundError(`No active suppression ${id}`);
    await recordAudit(trx, {
      actor: actor.name,
      role: actor.role,
      action: 'suppression.lifted',
      target: `suppression:${id}`,
      details: { reason },
    });
  });
}
