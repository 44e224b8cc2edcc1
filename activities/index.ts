import type { Knex } from 'knex';
import { withFailureMapping } from './failures';
import { heartbeating } from './heartbeat';
import { fileUnderImportDir } from './import-dir';
import type { EntityName } from '../ingestion/entities';
import { ingestFile, type IngestSummary } from '../ingestion/ingest-file';
import { runQualityGate, type GateResult } from '../quality/gate';
import type { QualityRules } from '../quality/rules';
import { computeFeatureSnapshot } from '../features/snapshots';
import { scoreCustomers, type ScoreSummary } from '../scoring/score-customers';
import { trainModels, type TrainModelsResult } from '../training/train-models';

/**
 * The activities a Foresight worker registers: thin adapters that call a step. Built around one database handle (no
 * global state); every activity is idempotent, so Temporal may retry it freely, and every error leaves as a classified
 * failure (activities/failures.ts) that says whether a retry can help.
 */
export function createActivities(db: Knex, options: { importDir: string; qualityRules: QualityRules }) {
  return withFailureMapping({
    async ingestEntityFile(input: { entity: EntityName; file: string; notAfter?: string }): Promise<IngestSummary> {
      const file = fileUnderImportDir(options.importDir, input.file);
      return heartbeating((onProgress) =>
        ingestFile(db, { entity: input.entity, file, notAfter: input.notAfter ? new Date(input.notAfter) : undefined, onProgress }),
      );
    },
    /** Records its verdicts under `gateRun` (the refresh workflow's id), so a retry replaces rather than adds. */
    async qualityGate(input: { asOf: string; gateRun: string }): Promise<GateResult> {
      return runQualityGate(db, { asOf: new Date(input.asOf), gateRun: input.gateRun, rules: options.qualityRules });
    },
    async featureSnapshot(input: { asOf: string }): Promise<{ asOf: string; featureVersion: string; customers: number }> {
      const snapshot = await heartbeating(() => computeFeatureSnapshot(db, new Date(input.asOf)));
      return { asOf: snapshot.asOf.toISOString(), featureVersion: snapshot.featureVersion, customers: snapshot.customerCount };
    },
    /** Registers new model versions each time it runs; a retry after a crash adds versions, never changes old ones. */
    async trainModels(input: {
      asOf: string;
      churnHorizonDays?: number;
      clvHorizonMonths?: number;
      createdBy: string;
      promote?: boolean;
    }): Promise<TrainModelsResult> {
      return heartbeating(() => trainModels(db, { ...input, asOf: new Date(input.asOf) }));
    },
    async scoreCustomers(input: { asOf: string }): Promise<ScoreSummary> {
      return heartbeating((onProgress) => scoreCustomers(db, { asOf: new Date(input.asOf), onProgress }));
    },
  });
}

export type Activities = ReturnType<typeof createActivities>;
