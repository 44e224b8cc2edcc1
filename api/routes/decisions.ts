import type { Express } from 'express';
import { z } from 'zod';
import { getDecisionRecord } from '../../delivery/decision-record';
import { defineRoute } from '../openapi';
import type { RouteContext } from '../route-context';
import { positiveIntParam } from '../validate';

const scoringRunsQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict();

export function decisionRoutes(app: Express, ctx: RouteContext): void {
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/decisions/:actionId',
      summary:
        "One action's record: scores and model versions, rule and policy version with the trace, the approval, every delivery attempt",
      roles: ['owner', 'marketing', 'support', 'finance', 'ml', 'viewer', 'admin'],
    },
    async ({ params }) => getDecisionRecord(ctx.db, positiveIntParam(params.actionId, 'actionId')),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/scoring-runs',
      summary: 'Scoring runs, newest first: as-of, model versions, customers scored',
      roles: ['ml', 'owner', 'viewer', 'admin'],
      query: scoringRunsQuery,
    },
    async ({ query }) => {
      const rows = (await ctx
        .db('scoring_runs')
        .orderBy('as_of', 'desc')
        .limit(query.limit)
        .select('run_id', 'as_of', 'model_versions', 'customers_scored', 'started_at', 'finished_at')) as Record<string, unknown>[];
      return {
        scoringRuns: rows.map((r) => ({
          runId: Number(r.run_id),
          asOf: r.as_of,
          modelVersions: r.model_versions,
          customersScored: r.customers_scored,
          startedAt: r.started_at,
          finishedAt: r.finished_at,
        })),
      };
    },
  );
}
