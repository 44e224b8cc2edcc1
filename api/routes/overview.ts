import type { Express } from 'express';
import { z } from 'zod';
import { waitingApprovalCount } from '../../approvals/action-approval';
import { openAlerts } from '../../monitoring/alerts';
import { latestReport } from '../../monitoring/run-monitoring';
import { portfolioOverview } from '../../scoring/portfolio-overview';
import { portfolioTrend } from '../../scoring/portfolio-trend';
import { defineRoute } from '../openapi';
import type { RouteContext } from '../route-context';

const decimal = z.string().openapi({ description: 'Money as a decimal string (numeric in the database)', example: '1200.13' });
const ratio = z.number().nullable();

const overviewAnswer = z.object({
  asOf: z.string().nullable(),
  oldestAsOf: z.string().nullable(),
  customersScored: z.number().int(),
  revenueAtRisk: decimal,
  expectedRevenue: decimal,
  customersWithoutValue: z.number().int(),
  riskBands: z.array(z.object({ band: z.string().nullable(), customers: z.number().int(), revenueAtRisk: decimal })),
  churnProbability: z.array(z.object({ from: z.number(), to: z.number(), customers: z.number().int() })),
  segments: z.array(
    z.object({ segment: z.string().nullable(), customers: z.number().int(), expectedRevenue: decimal, revenueAtRisk: decimal }),
  ),
  trend: z
    .array(
      z.object({
        runId: z.number().int(),
        asOf: z.string(),
        customersScored: z.number().int(),
        revenueAtRisk: decimal,
        averageClv: decimal.nullable(),
        previousCustomers: z.number().int(),
        retainedCustomers: z.number().int(),
        retentionRate: ratio,
        churnRate: ratio,
        netRevenueRetention: ratio,
        segments: z.array(z.object({ segment: z.string().nullable(), customers: z.number().int() })),
      }),
    )
    .openapi({ description: 'The newest published scoring runs, oldest first, with the business KPIs of each run (README "Web console")' }),
  freshness: z
    .object({
      runId: z.number().int(),
      asOf: z.string(),
      runAgeDays: z.number(),
      sources: z.array(z.object({ source: z.string(), latestEventAt: z.string().nullable(), ageDays: z.number().nullable() })),
    })
    .nullable()
    .openapi({ description: "The latest monitoring report's data and score freshness (as GET /monitoring), null before any" }),
  openAlerts: z.number().int(),
  actionsWaitingForApproval: z.number().int(),
});

/** The portfolio at a glance: read by the business roles and the ML team; support looks up single customers only. */
export function overviewRoutes(app: Express, ctx: RouteContext): void {
  const { db } = ctx;
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/overview',
      summary: "The console's overview: the latest profiles, their trend over runs, freshness, open alerts and actions waiting",
      roles: ['owner', 'marketing', 'finance', 'ml'],
      response: overviewAnswer,
    },
    async (): Promise<z.infer<typeof overviewAnswer>> => {
      const [portfolio, trend, report, alerts, waiting] = await Promise.all([
        portfolioOverview(db),
        portfolioTrend(db),
        latestReport(db),
        openAlerts(db),
        waitingApprovalCount(db),
      ]);
      const figures = report?.figures;
      return {
        ...portfolio,
        trend,
        freshness: figures
          ? {
              runId: figures.runId,
              asOf: figures.asOf,
              runAgeDays: figures.runAgeDays,
              sources: Object.entries(figures.sourceFreshness).map(([source, f]) => ({ source, ...f })),
            }
          : null,
        openAlerts: alerts.length,
        actionsWaitingForApproval: waiting,
      };
    },
  );
}
