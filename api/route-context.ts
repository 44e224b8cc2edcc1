import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { RequestHandler } from 'express';
import type { SimilarCustomers } from '../scoring/similar-customers';
import type { ServedProfiles } from '../policy/served-profile-cache';
import type { Auth } from './auth';
import type { ApiDocs } from './openapi';

/** What every route module receives from createApp. */
export interface RouteContext {
  db: Knex;
  /** The health checks' own small pool (the main pool's `db` when an app is built without one). */
  health: Knex;
  auth: Auth;
  similarCustomers: SimilarCustomers;
  /** Per-API-key request rate limit of the similar-customers route; placed after the guard, which names the key. */
  similarRateLimit: RequestHandler;
  /** The OpenAPI document's registry: every route registers the schemas it validates with. */
  docs: ApiDocs;
  /** Approvals send Temporal Updates; without a client their decisions answer 503. */
  temporal?: { client: Client; taskQueue: string };
  /** Seals webhook signing secrets (subscriptions created or rotated over the API); without it those answer 503. */
  secretKey?: Buffer;
  /** Served profiles, kept in memory between changes to what they are read from; stale after the freshness contract. */
  servedProfiles: ServedProfiles;
  /** Cost of acquiring one customer per channel (FORESIGHT_ACQUISITION_COSTS), for the finance views. */
  acquisitionCosts: Readonly<Record<string, string>>;
}
