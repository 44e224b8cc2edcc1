import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { config } from '../lib/config';
import { log } from '../lib/log';
import { createSimilarCustomers } from '../scoring/similar-customers';
import { createAuth } from './auth';
import type { RouteContext } from './route-context';
import { errorHandler, notFound } from './errors';
import { perKeyRateLimit } from './rate-limit';
import { assertEveryRouteGuarded, knownMiddleware } from './route-table';
import { healthRoutes } from './routes/health';
import { consoleFiles } from './console-files';
import { meRoutes } from './routes/me';
import { modelRoutes } from './routes/models';
import { overviewRoutes } from './routes/overview';
import { profileRoutes } from './routes/profiles';

const requestIdAndHeaders: RequestHandler = knownMiddleware((_req, res, next) => {
  res.locals.requestId = randomUUID();
  res.set({
    'X-Request-Id': res.locals.requestId,
    // Profiles are personal data: no shared cache may keep them, and browsers must not sniff JSON as something else.
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  next();
});

/**
 * The HTTP API. Everything it needs comes in through `deps`, so tests and the server each build their own:
 * `db` for requests, `health` for the health checks' own pool (serve passes both from openApiDatabases; without
 * it the checks share `db`), the per-key rate of the similar-customers route (default: the configuration's), and the
 * folder of the built console (served at / when given).
 */
export function createApp(deps: { db: Knex; health?: Knex; logger?: Logger; similarPerSecond?: number; consoleDir?: string }): Express {
  const app = express();
  app.disable('x-powered-by');
  // No body parser here: routes that take a body parse it after their guard (jsonBody in validate.ts).
  app.use(requestIdAndHeaders);

  const context: RouteContext = {
    db: deps.db,
    health: deps.health ?? deps.db,
    auth: createAuth(deps.db, deps.logger ?? log),
    similarCustomers: createSimilarCustomers(deps.db),
    similarRateLimit: perKeyRateLimit(deps.similarPerSecond ?? config().api.similarPerSecond, 'similar customers'),
  };
  if (deps.consoleDir !== undefined) app.use(consoleFiles(deps.consoleDir));
  healthRoutes(app, context);
  meRoutes(app, context);
  overviewRoutes(app, context);
  profileRoutes(app, context);
  modelRoutes(app, context);
  assertEveryRouteGuarded(app);

  app.use(notFound);
  app.use(errorHandler(deps.logger ?? log));
  return app;
}
