import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../lib/errors';
import { changeModelStatus, type StatusActor } from './model-status';
import type { RegisteredModel } from './registered-model';

export interface Rollback {
  kind: string;
  actor: StatusActor;
  reason: string;
}

/**
 * Restores the previous champion of a kind: the model most recently retired from champion (other than the current
 * one). changeModelStatus retires the current champion in the same transaction and audits both changes.
 */
export async function rollbackChampion(db: Knex, rollback: Rollback): Promise<{ restored: RegisteredModel; retired: number | null }> {
  if (rollback.reason.trim() === '') throw new ValidationError('a rollback needs a reason', 'reason');
  const current = (await db('model_registry').where({ kind: rollback.kind, status: 'champion' }).first('model_id')) as
    { model_id: string } | undefined;
  const previous = (await db('model_registry_events as e')
    .join('model_registry as m', 'm.model_id', 'e.model_id')
    .where({ 'm.kind': rollback.kind, 'm.status': 'retired', 'e.from_status': 'champion', 'e.to_status': 'retired' })
    .orderBy('e.event_id', 'desc')
    .first('m.model_id')) as { model_id: string } | undefined;
  if (!previous) throw new NotFoundError(`No retired ${rollback.kind} champion to restore`);
  const restored = await changeModelStatus(db, {
    modelId: Number(previous.model_id),
    to: 'champion',
    actor: rollback.actor,
    reason: `rollback: ${rollback.reason}`,
  });
  return { restored, retired: current ? Number(current.model_id) : null };
}
