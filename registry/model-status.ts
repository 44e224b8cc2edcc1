import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import type { Role } from '../lib/roles';
import { fromRow, MODEL_STATUSES, type ModelRow, type ModelStatus, type RegisteredModel } from './registered-model';

/** Who changes a model's status, and through which entry point. */
export interface StatusActor {
  /** The API key's name, the CLI operator's --by, or the training run's createdBy. */
  name: string;
  /** The API key's role; null for the CLI and training, which act with direct database access. */
  role: Role | null;
  keyId?: number;
  ip?: string | null;
  via: 'api' | 'cli' | 'training';
}

export interface StatusChange {
  modelId: number;
  to: ModelStatus;
  actor: StatusActor;
  /** Required: the audit log should say why a model was promoted or retired, not only who did it. */
  reason: string;
}

const ALLOWED: Record<ModelStatus, ModelStatus[]> = {
  candidate: ['shadow', 'champion', 'retired'],
  shadow: ['champion', 'retired'],
  champion: ['retired'],
  retired: [],
};

/**
 * The one way a model's status changes, whoever asks. Promoting to champion retires the current champion of the kind,
 * so there is always at most one. The registry events and the audit row are written in one transaction: a change
 * that cannot be audited does not happen.
 */
export async function changeModelStatus(db: Knex, change: StatusChange): Promise<RegisteredModel> {
  const { modelId, to, actor } = change;
  if (!(MODEL_STATUSES as readonly string[]).includes(to))
    throw new ValidationError(`status must be one of ${MODEL_STATUSES.join(', ')}, got "${to}"`, 'status');
  const reason = change.reason.trim();
  if (reason === '') throw new ValidationError('a status change needs a reason', 'reason');
  return db.transaction(async (trx) => {
    const current = (await trx('model_registry').where({ model_id: modelId }).forUpdate().first()) as ModelRow | undefined;
    if (!current) throw new NotFoundError(`No model ${modelId} in the registry`);
    if (!ALLOWED[current.status].includes(to)) {
      throw new ConflictError(`Model ${modelId} is ${current.status}; it cannot become ${to}`, { from: current.status, to });
    }
    let replaced: number | null = null;
    if (to === 'champion') {
      const previous = (await trx('model_registry').where({ kind: current.kind, status: 'champion' }).forUpdate().first()) as
        ModelRow | undefined;
      if (previous) {
        replaced = Number(previous.model_id);
        await trx('model_registry').where({ model_id: previous.model_id }).update({ status: 'retired' });
        await trx('model_registry_events').insert({
          model_id: previous.model_id,
          from_status: 'champion',
          to_status: 'retired',
          actor: actor.name,
          reason: `replaced by model ${modelId}`,
        });
      }
    }
    const [row] = (await trx('model_registry')
      .where({ model_id: modelId })
      .update({ status: to, ...(to === 'champion' || to === 'shadow' ? { promoted_by: actor.name, promoted_at: trx.fn.now() } : {}) })
      .returning('*')) as ModelRow[];
    await trx('model_registry_events').insert({ model_id: modelId, from_status: current.status, to_status: to, actor: actor.name, reason });
    await recordAudit(trx, {
      actor: actor.name,
      role: actor.role,
      action: 'model.status',
      target: `model:${modelId}`,
      details: {
        kind: current.kind,
        version: current.version,
        from: current.status,
        to,
        reason,
        via: actor.via,
        ...(actor.keyId !== undefined ? { keyId: actor.keyId } : {}),
        ...(replaced !== null ? { retiredChampion: replaced } : {}),
      },
      ip: actor.ip ?? null,
    });
    return fromRow(row!);
  });
}
