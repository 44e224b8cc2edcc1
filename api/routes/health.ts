import type { Express } from 'express';
import type { Knex } from 'knex';
import { DependencyError } from '../../lib/errors';
import type { RouteContext } from '../route-context';

/** A readiness answer must come within two seconds even when the database hangs rather than refuses. */
const READY_TIMEOUT_MS = 1500;

async function databaseAnswers(health: Knex): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
  });
  try {
    // No knex cancel: cancelling needs yet another connection. The health pool's own statement timeout ends the query.
    await Promise.race([health.raw('select 1'), late]);
  } catch (err) {
    throw new DependencyError('The database is not reachable', { cause: String(err) });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Liveness (`/healthz`: the process answers, no database involved) and readiness (`/readyz`, and `/health` as it
 * always was: the database answers too). Readiness uses the health pool, so it answers while requests hold every
 * connection of the main pool. Public so that load balancers and orchestrators can probe without a key; they reveal
 * nothing but "up".
 */
export function healthRoutes(app: Express, { health, auth, docs }: RouteContext): void {
  app.get('/healthz', auth.publicRoute, (_req, res) => {
    res.json({ status: 'ok' });
  });
  docs.add({ method: 'get', path: '/healthz', summary: 'Liveness: the process answers', access: 'public' });
  for (const path of ['/readyz', '/health']) {
    docs.add({ method: 'get', path, summary: 'Readiness: the process and its database answer', access: 'public' });
    app.get(path, auth.publicRoute, async (_req, res) => {
      await databaseAnswers(health);
      res.json({ status: 'ok', database: 'ok' });
    });
  }
}
