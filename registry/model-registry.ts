import type { Knex } from 'knex';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';

/** The model registry (see migrations/20261125000003_model_registry.ts): register, promote, look up. */
export const MODEL_STATUSES = ['candidate', 'shadow', 'champion', 'retired'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

export interface RegisteredModel {
  modelId: number;
  kind: string;
  version: number;
  parameters: Record<string, unknown>;
  featureVersion: string | null;
  trainingFrom: string | null;
  trainingTo: string | null;
  metrics: Record<string, unknown>;
  artifact: unknown;
  status: ModelStatus;
  createdBy: string;
  promotedBy: string | null;
  createdAt: string;
  promotedAt: string | null;
}

export interface NewModel {
  kind: string;
  parameters?: Record<string, unknown>;
  featureVersion?: string;
  trainingFrom?: Date;
  trainingTo?: Date;
  metrics?: Record<string, unknown>;
  artifact: unknown;
  createdBy: string;
}

interface Row {
  model_id: string;
  kind: string;
  version: number;
  parameters: Record<string, unknown>;
  feature_version: string | null;
  training_from: Date | null;
  training_to: Date | null;
  metrics: Record<string, unknown>;
  artifact: unknown;
  status: ModelStatus;
  created_by: string;
  promoted_by: string | null;
  created_at: Date;
  promoted_at: Date | null;
}

function fromRow(r: Row): RegisteredModel {
  return {
    modelId: Number(r.model_id),
    kind: r.kind,
    version: r.version,
    parameters: r.parameters,
    featureVersion: r.feature_version,
    trainingFrom: r.training_from?.toISOString() ?? null,
    trainingTo: r.training_to?.toISOString() ?? null,
    metrics: r.metrics,
    artifact: r.artifact,
    status: r.status,
    createdBy: r.created_by,
    promotedBy: r.promoted_by,
    createdAt: r.created_at.toISOString(),
    promotedAt: r.promoted_at?.toISOString() ?? null,
  };
}

/** Registers a fitted model as a candidate with the next version number of its kind. */
export async function registerModel(db: Knex, model: NewModel): Promise<RegisteredModel> {
  return db.transaction(async (trx) => {
    // Serialises version numbering per kind.
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`model_registry:${model.kind}`]);
    const next = await trx('model_registry').where({ kind: model.kind }).max({ v: 'version' }).first();
    const [row] = await trx('model_registry')
      .insert({
        kind: model.kind,
        version: Number(next?.v ?? 0) + 1,
        parameters: JSON.stringify(model.parameters ?? {}),
        feature_version: model.featureVersion ?? null,
        training_from: model.trainingFrom ?? null,
        training_to: model.trainingTo ?? null,
        metrics: JSON.stringify(model.metrics ?? {}),
        artifact: JSON.stringify(model.artifact),
        created_by: model.createdBy,
      })
      .returning('*');
    await trx('model_registry_events').insert({
      model_id: row.model_id,
      from_status: null,
      to_status: 'candidate',
      actor: model.createdBy,
    });
    return fromRow(row as Row);
  });
}

const ALLOWED: Record<ModelStatus, ModelStatus[]> = {
  candidate: ['shadow', 'champion', 'retired'],
  shadow: ['champion', 'retired'],
  champion: ['retired'],
  retired: [],
};

/**
 * Moves a model along its life cycle. Promoting to champion retires the current champion of the kind in the same
 * transaction, so there is always at most one.
 */
export async function setModelStatus(db: Knex, modelId: number, to: ModelStatus, actor: string, reason?: string): Promise<RegisteredModel> {
  if (!(MODEL_STATUSES as readonly string[]).includes(to))
    throw new ValidationError(`status must be one of ${MODEL_STATUSES.join(', ')}`, 'status');
  return db.transaction(async (trx) => {
    const current = (await trx('model_registry').where({ model_id: modelId }).forUpdate().first()) as Row | undefined;
    if (!current) throw new NotFoundError(`No model ${modelId} in the registry`);
    if (!ALLOWED[current.status].includes(to)) {
      throw new ConflictError(`Model ${modelId} is ${current.status}; it cannot become ${to}`, { from: current.status, to });
    }
    if (to === 'champion') {
      const previous = (await trx('model_registry').where({ kind: current.kind, status: 'champion' }).forUpdate().first()) as
        Row | undefined;
      if (previous) {
        await trx('model_registry').where({ model_id: previous.model_id }).update({ status: 'retired' });
        await trx('model_registry_events').insert({
          model_id: previous.model_id,
          from_status: 'champion',
          to_status: 'retired',
          actor,
          reason: `replaced by model ${modelId}`,
        });
      }
    }
    const [row] = await trx('model_registry')
      .where({ model_id: modelId })
      .update({ status: to, ...(to === 'champion' || to === 'shadow' ? { promoted_by: actor, promoted_at: trx.fn.now() } : {}) })
      .returning('*');
    await trx('model_registry_events').insert({
      model_id: modelId,
      from_status: current.status,
      to_status: to,
      actor,
      reason: reason ?? null,
    });
    return fromRow(row as Row);
  });
}

export async function getModel(db: Knex, modelId: number): Promise<RegisteredModel> {
  const row = (await db('model_registry').where({ model_id: modelId }).first()) as Row | undefined;
  if (!row) throw new NotFoundError(`No model ${modelId} in the registry`);
  return fromRow(row);
}

/** The champion of a kind, or undefined when none has been promoted. */
export async function getChampion(db: Knex, kind: string): Promise<RegisteredModel | undefined> {
  const row = (await db('model_registry').where({ kind, status: 'champion' }).first()) as Row | undefined;
  return row ? fromRow(row) : undefined;
}

/** Models without their artifacts (which can be large), newest first. */
export async function listModels(
  db: Knex,
  filter: { kind?: string; status?: ModelStatus } = {},
): Promise<Omit<RegisteredModel, 'artifact'>[]> {
  const rows = (await db('model_registry')
    .where((q) => {
      if (filter.kind) q.where({ kind: filter.kind });
      if (filter.status) q.where({ status: filter.status });
    })
    .orderBy('model_id', 'desc')
    .select(db.raw("model_registry.*, 'null'::jsonb as artifact"))) as Row[];
  return rows.map((r) => {
    const { artifact: _artifact, ...rest } = fromRow(r);
    return rest;
  });
}

export async function modelHistory(db: Knex, modelId: number) {
  return db('model_registry_events')
    .where({ model_id: modelId })
    .orderBy('event_id')
    .select('from_status', 'to_status', 'actor', 'reason', 'at');
}
