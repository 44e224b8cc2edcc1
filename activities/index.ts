import type { Knex } from 'knex';
import type { EntityName } from './ingest/entities';
import { ingestFile, type IngestSummary } from './ingest/ingest-file';

/**
 * The activities a Foresight worker registers. Built around one database handle (no global state); every
 * activity is idempotent, so Temporal may retry it freely.
 */
export function createActivities(db: Knex) {
  return {
    async ingestEntityFile(input: { entity: EntityName; file: string; notAfter?: string }): Promise<IngestSummary> {
      return ingestFile(db, { entity: input.entity, file: input.file, notAfter: input.notAfter ? new Date(input.notAfter) : undefined });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
