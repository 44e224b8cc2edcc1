import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { log } from '../lib/log';
import { createAuth } from './auth';
import type { RouteContext } from './route-context';
import { errorHandler, notFound } from './errors';
import { assertEveryRouteGuarded } from './route-table';
import { healthRoutes } from './routes/health';
import { modelRoutes } from './routes/models';
import { profileRoutes } from './routes/profiles';

/** Request bodies are small JSON documents (a status and a reason); anything bigger is refused before parsing. */
const BODY_LIMIT = '16kb';

/** The HTTP API. Everything it needs comes in through `deps`, so tests and the server each build their own. */
export function createApp(deps: { db: Knex; logger?: Logger }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.locals.requestId = randomUUID();
    res.set({
      'X-Request-Id': res.locals.requestId,
      // Profiles are personal data: no shared cache may keep them, and browsers must not sniff JSON as something else.
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    next();
  });
  app.use(express.json({ limit: BODY_LIMIT }));

  const context: RouteContext = { db: deps.db, auth: createAuth(deps.db, deps.logger ?? log) };
  healthRoutes(app, context);
  profileRoutes(app, context);
  modelRoutes(app, context);
  assertEveryRouteGuarded(app);

  app.use(notFound);
  app.use(errorHandler(deps.logger ?? log));
  return app;
}
