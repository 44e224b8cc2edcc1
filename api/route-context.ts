import type { Knex } from 'knex';
import type { Auth } from './auth';

/** What every route module receives from createApp: the database and the role guard. */
export interface RouteContext {
  db: Knex;
  auth: Auth;
}
