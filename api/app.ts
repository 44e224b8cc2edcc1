import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import express, { type Express, type RequestHandler } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { config } from '../lib/config';
import { log } from '../lib/log';
import { createChangeListener } from '../lib/change-listener';
import { createServedProfileCache } from '../policy/served-profile-cache';
import { createSimilarCustomers } from '../scoring/similar-customers';
import { createAuth } from './auth';
import type { RouteContext } from './route-context';
import { errorHandler, notFound } from './errors';
import { perKeyRateLimit } from './rate-limit';
import { assertEveryRouteGuarded, knownMiddleware } from './route-table';
import type { Client } from '@temporalio/client';
import { createMetrics } from './metrics';
import { ApiDocs } from './openapi';
import { ROLES } from '../lib/roles';
import { approvalRoutes } from './routes/approvals';
import { customerHistoryRoutes } from './routes/customer-history';
import { decisionRoutes } from './routes/decisions';
import { healthRoutes } from './routes/health';
import { insightsRoutes } from './routes/insights';
import { consoleFiles } from './console-files';
import { meRoutes } from './routes/me';
import { policyRoutes } from './routes/policies';
import { webhookRoutes } from './routes/webhooks';
import { modelRoutes } from './routes/models';
import { monitoringRoutes } from './routes/monitoring';
import { financeRoutes } from './routes/finance';
import { overviewRoutes } from './routes/overview';
import { profileRoutes } from './routes/profiles';

const requestIdAndHeaders = (logger: Logger): RequestHandler =>
  knownMiddleware((_req, res, next) => {
    res.locals.receivedAt = performance.now();
    res.locals.requestId = randomUUID();
    // Every line logged for this request carries its id (the errors' too).
    res.locals.log = logger.child({ requestId: res.locals.requestId });
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
export function createApp(deps: {
  db: Knex;
  health?: Knex;
  logger?: Logger;
  similarPerSecond?: number;
  /** For approvals (Temporal Updates); without it their decisions answer 503. */
  temporal?: { client: Client; taskQueue: string };
  /** Seals webhook secrets; without it creating or rotating a subscription answers 503. */
  secretKey?: Buffer;
  profileFreshnessDays?: number;
  /** Served profiles kept in memory (default: the configuration's; 0 keeps none). */
  profileCacheMaxEntries?: number;
  /** Acquisition cost per channel (default: the configuration's). */
  acquisitionCosts?: Record<string, string>;
  /** The folder of the built console, served at / when given. */
  consoleDir?: string;
}): Express {
  const app = express();
  app.disable('x-powered-by');
  const logger = deps.logger ?? log;
  // One LISTENing connection for the app's caches of API keys and served profiles.
  const changes = createChangeListener(deps.db, logger);
  const servedProfiles = createServedProfileCache(deps.db, changes, {
    maxEntries: deps.profileCacheMaxEntries ?? config().api.profileCacheMaxEntries,
    freshnessDays: deps.profileFreshnessDays ?? config().api.profileFreshnessDays,
  });
  const metrics = createMetrics(deps.db, servedProfiles);
  // No body parser here: routes that take a body parse it after their guard (jsonBody in validate.ts).
  app.use(requestIdAndHeaders(logger));
  app.use(metrics.timing);

  const context: RouteContext = {
    db: deps.db,
    health: deps.health ?? deps.db,
    auth: createAuth(deps.db, logger, changes),
    similarCustomers: createSimilarCustomers(deps.db),
    similarRateLimit: perKeyRateLimit(deps.similarPerSecond ?? config().api.similarPerSecond, 'similar customers'),
    docs: new ApiDocs(),
    temporal: deps.temporal,
    secretKey: deps.secretKey,
    servedProfiles,
    acquisitionCosts: deps.acquisitionCosts ?? config().finance.acquisitionCosts,
  };
  if (deps.consoleDir !== undefined) app.use(consoleFiles(deps.consoleDir));
  healthRoutes(app, context);
  meRoutes(app, context);
  overviewRoutes(app, context);
  profileRoutes(app, context);
  customerHistoryRoutes(app, context);
  modelRoutes(app, context);
  approvalRoutes(app, context);
  policyRoutes(app, context);
  insightsRoutes(app, context);
  webhookRoutes(app, context);
  decisionRoutes(app, context);
  monitoringRoutes(app, context);
  financeRoutes(app, context);
  metrics.route(app, context);
  // The console's /me route, described here so that the document covers every route.
  context.docs.add({ method: 'get', path: '/me', summary: "The calling key's name and role", access: ROLES });
  // Public: the API's shape is no secret (it is generated from the repository's schemas), and clients and
  // documentation tools fetch it before they have a key.
  const document = context.docs;
  document.add({ method: 'get', path: '/openapi.json', summary: 'This OpenAPI 3.1 document', access: 'public' });
  const openApi = document.document();
  app.get('/openapi.json', context.auth.publicRoute, (_req, res) => {
    res.json(openApi);
  });
  assertEveryRouteGuarded(app);

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
