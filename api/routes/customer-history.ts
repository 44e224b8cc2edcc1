import type { Express } from 'express';
import { z } from 'zod';
import { ROLES } from '../../lib/roles';
import { customerScoreHistory, customerTimeline } from '../../scoring/customer-history';
import { defineRoute } from '../openapi';
import type { RouteContext } from '../route-context';
import { customerIdParam } from '../validate';

const timelineQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    after: z.string().min(1).max(500).optional(),
  })
  .strict();
const scoresQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(24) }).strict();

/** Read by the same roles as the profile (every role): the history behind the profile a caller already sees. */
const HISTORY_READERS = [...ROLES];

export function customerHistoryRoutes(app: Express, ctx: RouteContext): void {
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/customer/:id/timeline',
      summary: "A customer's orders, sessions and returns, newest first; page on with ?after=<nextCursor>",
      roles: HISTORY_READERS,
      query: timelineQuery,
    },
    async ({ params, query }) => customerTimeline(ctx.db, customerIdParam(params.id), query),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/customer/:id/scores',
      summary: "A customer's churn probability, CLV and segment in each published scoring run, newest first",
      roles: HISTORY_READERS,
      query: scoresQuery,
    },
    async ({ params, query }) => customerScoreHistory(ctx.db, customerIdParam(params.id), query),
  );
}
