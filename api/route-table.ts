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

// Handlers that serve public files (the console) at the paths they declare: allowed in front of the routes because no
// route may live at those paths (assertEveryRouteGuarded checks), so they can never answer in place of a guarded route.
const fileServers = new WeakMap<object, readonly string[]>();

/** Marks a handler that serves public files at `paths` (exact paths, or `prefix/*`) and passes every other request on. */
export function publicFiles<T extends object>(paths: readonly string[], handler: T): T {
  fileServers.set(handler, Object.freeze([...paths]));
  return handler;
}

/** Whether `path` is one of `paths`: exact entries, or `prefix/*` for everything below the prefix. */
export function servesPath(paths: readonly string[], path: string): boolean {
  return paths.some((p) => (p.endsWith('/*') ? path.startsWith(p.slice(0, -1)) : path === p));
}

function isRouter(layer: Layer): layer is Layer & { handle: { stack: Layer[] } } {
  return Array.isArray((layer.handle as { stack?: unknown }).stack);
}

/** Handlers mounted with app.use (or router.use) that are neither a Router nor known middleware. */
function unknownMiddleware(stack: Layer[]): string[] {
  return stack.flatMap((layer): string[] => {
    if (layer.route) return [];
    if (isRouter(layer)) return unknownMiddleware(layer.handle.stack);
    const handle = layer.handle as object;
    return known.has(handle) || fileServers.has(handle) ? [] : [`USE ${String(layer.rawPath ?? '/')} (${layer.name})`];
  });
}

/** The paths claimed by the public file servers mounted with app.use (or router.use). */
function filePaths(stack: Layer[]): string[] {
  return stack.flatMap((layer): string[] => {
    if (layer.route) return [];
    if (isRouter(layer)) return filePaths(layer.handle.stack);
    return [...(fileServers.get(layer.handle as object) ?? [])];
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
 * known middleware (it would answer requests that no guard has seen), or a route at a path that public files claim:
 * secure by default.
 */
export function assertEveryRouteGuarded(app: Express): void {
  const unguarded = routeTable(app)
    .filter((r) => r.access === undefined)
    .map((r) => `${r.method} ${r.path}`);
  const unknown = unknownMiddleware(app.router.stack as unknown as Layer[]);
  if (unguarded.length + unknown.length > 0) {
    throw new Error(`Handlers without allow(...roles) or publicRoute: ${[...unguarded, ...unknown].join(', ')}`);
  }
  const files = filePaths(app.router.stack as unknown as Layer[]);
  const shadowed = routeTable(app).filter((r) => servesPath(files, r.path));
  if (shadowed.length > 0) {
    throw new Error(`Routes at paths served as public files: ${shadowed.map((r) => `${r.method} ${r.path}`).join(', ')}`);
  }
}
