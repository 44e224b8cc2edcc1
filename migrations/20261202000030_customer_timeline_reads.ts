import type { Knex } from 'knex';

/**
 * The API answers GET /customer/:id/timeline (scoring/customer-history.ts): a customer's orders and returns (already
 * granted) and sessions, newest first.
 */
const API = 'foresight_api';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`grant select on sessions to ${API}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`revoke select on sessions from ${API}`);
}
