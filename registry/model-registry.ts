import type { Knex } from 'knex';
import { NotFoundError } from '../lib/errors';
import { fromRow, type ModelRow as Row, type ModelStatus, type RegisteredModel } from './registered-model';

/** The model registry: register, look up (status changes: model-status.ts). */
export { MODEL_STATUSES, type ModelStatus, type RegisteredModel } from './registered-model';

export interface NewModel {
  kind: string;
  parameters?: Record<string, unknown>;
  featureVersion?: string;
  trainingFrom?: Date;
  trainingTo?: Date;
  metrics?: Record<string, unknown>;
  artifact: unknown;
  createdBy: string;
  /** The training run (a retrain workflow's id) registering it: at most one model per kind and run. */
  trainingRun?: string;
}

/**
 * Registers a fitted model as a candidate with the next version number of its kind. With a training run, a model
 * that run already registered for the kind is returned as it is (a retried activity adds nothing).
 */
export async function registerModel(db: Knex, model: NewModel): Promise<RegisteredModel> {
  return db.transaction(async (trx) => {
    // Serialises version numbering (and the training run's check) per kind.
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`model_registry:${model.kind}`]);
    if (model.trainingRun !== undefined) {
      const existing = await findByTrainingRun(trx, model.kind, model.trainingRun);
      if (existing) return existing;
    }
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
        training_run: model.trainingRun ?? null,
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

export async function getModel(db: Knex, modelId: number): Promise<RegisteredModel> {
  const row = (await db('model_registry').where({ model_id: modelId }).first()) as Row | undefined;
  if (!row) throw new NotFoundError(`No model ${modelId} in the registry`);
  return fromRow(row);
}

/** The model a training run registered for a kind, if it did. */
export async function findByTrainingRun(db: Knex, kind: string, trainingRun: string): Promise<RegisteredModel | undefined> {
  const row = (await db('model_registry').where({ kind, training_run: trainingRun }).first()) as Row | undefined;
  return row ? fromRow(row) : undefined;
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
