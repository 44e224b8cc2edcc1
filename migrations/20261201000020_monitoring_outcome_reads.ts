import type { Knex } from 'knex';

/**
 * The API answers GET /monitoring/outcomes (monitoring/outcomes.ts): the realised churn and CLV of past runs read the
 * orders (already granted) and the returns, and the newest completed exports in the ingestion ledger say how far the
 * outcomes are known.
 */
const API = 'foresight_api';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`grant select on returns, ingest_batches to ${API}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`revoke select on returns, ingest_batches from ${API}`);
}
