import type { Knex } from 'knex';

/**
 * The API answers GET /insights (scoring/insights.ts): the CLV associations correlate expected CLV with the run's
 * stored feature values, so the API reads the feature sets and snapshots (features only, no money or contact data).
 */
const API = 'foresight_api';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`grant select on feature_sets, feature_snapshots to ${API}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`revoke select on feature_sets, feature_snapshots from ${API}`);
}
