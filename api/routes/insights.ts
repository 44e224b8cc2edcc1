import type { Express } from 'express';
import { z } from 'zod';
import { scoringInsights } from '../../scoring/insights';
import { defineRoute } from '../openapi';
import type { RouteContext } from '../route-context';

const insightsQuery = z.object({ runs: z.coerce.number().int().min(1).max(24).default(6) }).strict();

/** The behaviours associated with churn and CLV: read by the roles that read the portfolio overview. */
export function insightsRoutes(app: Express, ctx: RouteContext): void {
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/insights',
      summary:
        'Behaviours most associated with churn (shares of customers among whose top drivers they are) and with CLV (correlation), overall and per segment, over the last `runs` published runs; directional, not causal',
      roles: ['owner', 'marketing', 'finance', 'ml'],
      query: insightsQuery,
    },
    async ({ query }) => scoringInsights(ctx.db, { runs: query.runs }),
  );
}
