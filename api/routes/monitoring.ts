import type { Express } from 'express';
import { z } from 'zod';
import { openAlerts, resolveAlert } from '../../monitoring/alerts';
import { impactCsv, impactVersions, policyImpact } from '../../monitoring/impact';
import { DEFAULT_OUTCOME_RUNS, runOutcomes } from '../../monitoring/outcomes';
import { latestReport } from '../../monitoring/run-monitoring';
import { THRESHOLDS } from '../../monitoring/thresholds';
import { defineRoute, FileAnswer } from '../openapi';
import type { RouteContext } from '../route-context';
import { positiveIntParam } from '../validate';

const resolveBody = z.object({ reason: z.string().trim().min(1).max(1000) }).strict();
const outcomesQuery = z.object({ runs: z.coerce.number().int().min(1).max(200).default(DEFAULT_OUTCOME_RUNS) }).strict();
const impactQuery = z
  .object({
    policyVersion: z.coerce.number().int().positive(),
    horizonDays: z.coerce.number().int().min(1).max(3650).default(90),
    ruleThresholdDays: z.coerce.number().int().min(1).max(3650).default(90),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

/** Model health after each scoring run and its alerts; the impact of a policy version from its holdout. */
export function monitoringRoutes(app: Express, ctx: RouteContext): void {
  const { db } = ctx;
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/monitoring',
      summary: 'The latest monitoring report, its thresholds and the open alerts',
      roles: ['owner', 'ml', 'viewer'],
    },
    async () => ({ report: await latestReport(db), thresholds: THRESHOLDS, openAlerts: await openAlerts(db) }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/monitoring/outcomes',
      summary: 'Calibration over time and CLV realised vs predicted: each of the newest published runs against its matured outcomes',
      roles: ['owner', 'ml', 'viewer', 'finance'],
      query: outcomesQuery,
    },
    async ({ query }) => runOutcomes(db, { limit: query.runs }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/alerts/:alertId/resolve',
      summary: 'Resolve an open alert with a reason (automatic approval resumes once no alert is open); audited',
      roles: ['owner'],
      body: resolveBody,
    },
    async ({ params, body, res }) => {
      const principal = res.locals.principal!;
      return resolveAlert(db, positiveIntParam(params.alertId, 'alertId'), { name: principal.name, role: principal.role }, body.reason);
    },
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/impact',
      summary:
        "A policy version's impact from its holdout: retention and revenue differences with 95% intervals, and against the rule-based " +
        'baseline (JSON or CSV)',
      roles: ['owner', 'finance', 'marketing'],
      query: impactQuery,
    },
    async ({ query }) => {
      const impact = await policyImpact(db, query.policyVersion, {
        horizonDays: query.horizonDays,
        ruleThresholdDays: query.ruleThresholdDays,
      });
      if (query.format === 'csv') return new FileAnswer('text/csv', impactCsv(impact), `impact-policy-version-${query.policyVersion}.csv`);
      return impact;
    },
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/impact/versions',
      summary: 'The policy versions that decided something (actions, holdout, first and last decision), newest first',
      roles: ['owner', 'finance', 'marketing'],
    },
    async () => ({ versions: await impactVersions(db) }),
  );
}
