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
  /** 'workflow': a decision sent to a promotion workflow (the decider's name and role travel with it). */
  via: 'api' | 'cli' | 'training' | 'workflow';
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
  // A rollback restores a retired champion (registry/rollback.ts); audited like every change.
  retired: ['champion'],
};

/** PostgreSQL's unique_violation: here, the one-champion-per-kind index refusing a second champion. */
const UNIQUE_VIOLATION = '23505';

/**
 * The one way a model's status changes, whoever asks. Promoting to champion retires the current champion of the kind,
 * so there is always at most one. The registry events and the audit row are written in one transaction: a change
 * that cannot be audited does not happen.
 */
export async function changeModelStatus(db: Knex, change: StatusChange): Promise<RegisteredModel> {
  const { modelId, to } = change;
  if (!(MODEL_STATUSES as readonly string[]).includes(to))
    throw new ValidationError(`status must be one of ${MODEL_STATUSES.join(', ')}, got "${to}"`, 'status');
  const reason = change.reason.trim();
  if (reason === '') throw new ValidationError('a status change needs a reason', 'reason');
  try {
    return await changeInTransaction(db, change, reason);
  } catch (err) {
    // Belt and braces: the per-kind lock below orders promotions, but the index has the last word.
    if ((err as { code?: unknown }).code === UNIQUE_VIOLATION)
      throw new ConflictError(`Model ${modelId} cannot become ${to}: another change of its kind won the race; look again and retry`, {
        modelId,
        to,
      });
    throw err;
  }
}

async function changeInTransaction(db: Knex, change: StatusChange, reason: string): Promise<RegisteredModel> {
  const { modelId, to, actor } = change;
  return db.transaction(async (trx) => {
    const current = (await trx('model_registry').where({ model_id: modelId }).forUpdate().first()) as ModelRow | undefined;
    if (!current) throw new NotFoundError(`No model ${modelId} in the registry`);
    if (!ALLOWED[current.status].includes(to)) {
      throw new ConflictError(`Model ${modelId} is ${current.status}; it cannot become ${to}`, { from: current.status, to });
    }
    let replaced: number | null = null;
    if (to === 'champion') {
      // Two promotions of one kind at once: the champion each saw before the per-kind lock must still be the champion
      // once it holds the lock, else the other promotion won, and this one is refused (409) rather than silently
      // replacing a champion its caller never saw.
      const champion = () => trx('model_registry').where({ kind: current.kind, status: 'champion' }).first('model_id');
      const seen = ((await champion()) as Pick<ModelRow, 'model_id'> | undefined)?.model_id ?? null;
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`champion:${current.kind}`]);
      const previous = (await trx('model_registry').where({ kind: current.kind, status: 'champion' }).forUpdate().first()) as
        ModelRow | undefined;
      if ((previous?.model_id ?? null) !== seen) {
        throw new ConflictError(
          `Model ${modelId} was not promoted: the ${current.kind} champion changed meanwhile (now model ${previous?.model_id ?? 'none'}); look again and retry`,
          { modelId, kind: current.kind, champion: previous ? Number(previous.model_id) : null },
        );
      }
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
