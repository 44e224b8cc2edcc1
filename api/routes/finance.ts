import type { Express } from 'express';
import { z } from 'zod';
import { financeCsv, financeViews } from '../../scoring/finance-views';
import { defineRoute, FileAnswer } from '../openapi';
import type { RouteContext } from '../route-context';

const financeQuery = z
  .object({
    format: z.enum(['json', 'csv']).default('json'),
    // Which table a CSV holds (JSON answers both).
    table: z.enum(['segments', 'channels']).default('segments'),
  })
  .strict();

/** Finance's views of the latest profiles: revenue by segment over the CLV horizon, CLV against acquisition cost. */
export function financeRoutes(app: Express, ctx: RouteContext): void {
  const { db } = ctx;
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/finance',
      summary:
        'Expected revenue and revenue at risk by segment over the CLV horizon, and CLV against the configured acquisition cost ' +
        'per channel (JSON, or one table as CSV)',
      roles: ['owner', 'finance', 'marketing'],
      query: financeQuery,
    },
    async ({ query }) => {
      const views = await financeViews(db, ctx.acquisitionCosts);
      if (query.format === 'csv') return new FileAnswer('text/csv', financeCsv(views, query.table), `finance-${query.table}.csv`);
      return views;
    },
  );
}
