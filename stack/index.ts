import type { Knex } from 'knex';
import type { Config } from '../lib/config';
import { createDb } from '../lib/db';
import { databaseUrl, postgresDown, postgresStatus, postgresUp, type DatabaseRole, type PostgresStatus } from './postgres';
import { temporalDown, temporalStatus, temporalUp, type TemporalStatus } from './temporal';
import { SERVICES, stopService } from './services';
import { xgboostStatus, type XGBoostStatus } from './xgboost';

export interface StackStatus {
  postgres: PostgresStatus;
  temporal: TemporalStatus;
  xgboost: XGBoostStatus;
}

export type StackPart = 'postgres' | 'temporal';

/** Brings up the parts asked for (both by default); each is idempotent and health-checked. */
export async function stackUp(cfg: Config, parts: StackPart[] = ['postgres', 'temporal']): Promise<StackStatus> {
  await Promise.all([parts.includes('postgres') ? postgresUp(cfg) : undefined, parts.includes('temporal') ? temporalUp(cfg) : undefined]);
  return stackStatus(cfg);
}

export async function stackDown(cfg: Config): Promise<void> {
  // Foresight's own background services first: they hold connections to both.
  for (const name of SERVICES) await stopService(cfg, name);
  await Promise.all([temporalDown(cfg), postgresDown(cfg)]);
}

export async function stackStatus(cfg: Config): Promise<StackStatus> {
  const [postgres, temporal] = await Promise.all([postgresStatus(cfg), temporalStatus(cfg)]);
  return { postgres, temporal, xgboost: xgboostStatus(cfg) };
}

/**
 * A pool on the configured database (DATABASE_URL's, or the embedded server's, whose passwords the stack keeps), as
 * the owner by default, or as the API's or workers' least-privilege role.
 */
export function openDb(cfg: Config, role: DatabaseRole = 'owner'): Knex {
  return createDb(databaseUrl(cfg, cfg.postgres.database, role));
}
