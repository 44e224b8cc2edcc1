import type { Express } from 'express';
import { accessOf, type Access } from './auth';

export interface RouteEntry {
  method: string;
  path: string;
  /** Undefined when the route has no allow()/publicRoute guard in front of its handler: a bug. */
  access: Access | undefined;
}

// The parts of Express 5's router (the `router` package) that the table reads.
interface Layer {
  handle: unknown;
  method?: string;
  route?: { path: string; stack: Layer[] };
}

function routesOf(stack: Layer[]): RouteEntry[] {
  return stack.flatMap((layer): RouteEntry[] => {
    if (layer.route) {
      const { path, stack: handlers } = layer.route;
      const methods = [...new Set(handlers.map((h) => h.method ?? 'all'))];
      // The guard must be the first handler of each method, so nothing runs before it.
      return methods.map((method) => ({
        method: method.toUpperCase(),
        path,
        access: accessOf(handlers.find((h) => (h.method ?? 'all') === method)?.handle),
      }));
    }
    // A mounted Router: its routes count too. (Mount Routers, not sub-apps: a sub-app's routes are not visible here.)
    const nested = (layer.handle as { stack?: Layer[] }).stack;
    return Array.isArray(nested) ? routesOf(nested) : [];
  });
}

/** Every route of the app with who may call it, read from the router itself rather than from documentation. */
export function routeTable(app: Express): RouteEntry[] {
  return routesOf(app.router.stack as unknown as Layer[]);
}

/** Refuses to build an app that has a route without an access decision: secure by default. */
export function assertEveryRouteGuarded(app: Express): void {
  const unguarded = routeTable(app).filter((r) => r.access === undefined);
  if (unguarded.length > 0) {
    throw new Error(`Routes without allow(...roles) or publicRoute: ${unguarded.map((r) => `${r.method} ${r.path}`).join(', ')}`);
  }
}
