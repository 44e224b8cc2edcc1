import type { Express } from 'express';
import { ROLES } from '../../lib/roles';
import type { RouteContext } from '../route-context';
import { routeTable } from '../route-table';

/**
 * Who the key is, and which routes its role may call, read from the router's own guards: the console shows what the
 * caller can use without keeping a copy of the access rules (the server still enforces each one).
 */
export function meRoutes(app: Express, { auth }: RouteContext): void {
  app.get('/me', auth.allow(...ROLES), (_req, res) => {
    const { name, role } = res.locals.principal!;
    // Read at request time: the routes registered after this one are there by then.
    const may = routeTable(app)
      .filter((r) => r.access !== undefined && (r.access === 'public' || r.access.includes(role)))
      .map((r) => `${r.method} ${r.path}`);
    res.json({ name, role, may });
  });
}
