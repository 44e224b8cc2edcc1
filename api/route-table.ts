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
  name: string;
  rawPath?: unknown;
  method?: string;
  route?: { path: string; stack: Layer[] };
}

// Middleware that app.use() may mount in front of every route: marked where it is defined, so that any other
// handler mounted with app.use (which would run before, or instead of, the routes' guards) is refused.
const known = new WeakSet<object>();

/** Marks middleware that is safe in front of every route (it answers nothing itself and reveals nothing). */
export function knownMiddleware<T extends object>(handler: T): T {
  known.add(handler);
  return handler;
}

function isRouter(layer: Layer): layer is Layer & { handle: { stack: Layer[] } } {
  return Array.isArray((layer.handle as { stack?: unknown }).stack);
}

/** Handlers mounted with app.use (or router.use) that are neither a Router nor known middleware. */
function unknownMiddleware(stack: Layer[]): string[] {
  return stack.flatMap((layer): string[] => {
    if (layer.route) return [];
    if (isRouter(layer)) return unknownMiddleware(layer.handle.stack);
    return known.has(layer.handle as object) ? [] : [`USE ${String(layer.rawPath ?? '/')} (${layer.name})`];
  });
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
    return isRouter(layer) ? routesOf(layer.handle.stack) : [];
  });
}

/** Every route of the app with who may call it, read from the router itself rather than from documentation. */
export function routeTable(app: Express): RouteEntry[] {
  return routesOf(app.router.stack as unknown as Layer[]);
}

/**
 * Refuses to build an app that has a route without an access decision, or a handler mounted with app.use that is not
 * known middleware (it would answer requests that no guard has seen): secure by default.
 */
export function assertEveryRouteGuarded(app: Express): void {
  const unguarded = routeTable(app)
    .filter((r) => r.access === undefined)
    .map((r) => `${r.method} ${r.path}`);
  const unknown = unknownMiddleware(app.router.stack as unknown as Layer[]);
  if (unguarded.length + unknown.length > 0) {
    throw new Error(`Handlers without allow(...roles) or publicRoute: ${[...unguarded, ...unknown].join(', ')}`);
  }
}
