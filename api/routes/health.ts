import type { Express } from 'express';
import { DependencyError } from '../../lib/errors';
import type { RouteContext } from '../route-context';

/** Liveness and readiness in one: 200 when the database answers within two seconds, 503 otherwise. */
export function healthRoutes(app: Express, { db, auth }: RouteContext): void {
  // Public so that load balancers and orchestrators can probe without a key; it reveals nothing but "up".
  app.get('/health', auth.publicRoute, async (_req, res) => {
    try {
      await db.raw('select 1').timeout(2000, { cancel: true });
    } catch (err) {
      throw new DependencyError('The database is not reachable', { cause: String(err) });
    }
    res.json({ status: 'ok', database: 'ok' });
  });
}
