import type { Knex } from 'knex';
import type { RequestHandler } from 'express';
import type { SimilarCustomers } from '../scoring/similar-customers';
import type { Auth } from './auth';

/** What every route module receives from createApp. */
export interface RouteContext {
  db: Knex;
  /** The health checks' own small pool (the main pool's `db` when an app is built without one). */
  health: Knex;
  auth: Auth;
  similarCustomers: SimilarCustomers;
  /** Per-API-key request rate limit of the similar-customers route; placed after the guard, which names the key. */
  similarRateLimit: RequestHandler;
}
