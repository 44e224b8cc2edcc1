/** A model in the registry (see migrations/20261125000003_model_registry.ts), and its row. */
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
  /** The retrain workflow run that registered it (null for models trained by hand). */
  trainingRun: string | null;
}

/** A model_registry row as pg returns it (bigint as string, timestamptz as Date). */
export interface ModelRow {
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
  training_run: string | null;
}

export function fromRow(r: ModelRow): RegisteredModel {
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
    trainingRun: r.training_run ?? null,
  };
}
