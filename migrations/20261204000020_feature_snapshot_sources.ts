import type { Knex } from 'knex';

/**
 * feature_snapshot_headers.sources_fingerprint: the state of every ingestion batch when the snapshot was computed
 * (features/snapshots.ts sourcesFingerprint), so a caller that needs the snapshot as of a date can tell whether the one
 * on record is still what the data gives, and skip recomputing a million customers when nothing was ingested since.
 * Null (never reused) for snapshots computed before, or while a batch was still being ingested.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('feature_snapshot_headers', (t) => {
    t.text('sources_fingerprint');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('feature_snapshot_headers', (t) => {
    t.dropColumn('sources_fingerprint');
  });
}
