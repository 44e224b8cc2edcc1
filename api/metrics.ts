import type { Express, RequestHandler } from 'express';
import type { Knex } from 'knex';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Auth } from './auth';
import type { ApiDocs } from './openapi';
import { knownMiddleware } from './route-table';

/** The Prometheus text endpoint (not JSON: scrapers expect the exposition format). */
export const METRICS_PATH = '/metrics';

/**
 * Prometheus metrics of one app: request latency by route (the route's pattern, never the raw path, so ids do not
 * explode the label set), and, read from Postgres at each scrape, actions by type and status, approvals pending and
 * webhook deliveries by outcome.
 */
export function createMetrics(db: Knex) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'foresight_api_' });
  const latency = new Histogram({
    name: 'foresight_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'foresight_decisions',
    help: 'Actions decided, by action type and status',
    labelNames: ['action_type', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = (await db('actions').groupBy('action_type', 'status').select('action_type', 'status', db.raw('count(*)::int as n'))) as {
        action_type: string;
        status: string;
        n: number;
      }[];
      for (const r of rows) this.set({ action_type: r.action_type, status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'foresight_approvals_pending',
    help: 'Actions waiting for a person',
    registers: [registry],
    async collect() {
      const row = (await db('actions').where({ status: 'pending_approval' }).count<{ n: string }[]>('* as n'))[0];
      this.set(Number(row?.n ?? 0));
    },
  });
  new Gauge({
    name: 'foresight_webhook_deliveries',
    help: 'Webhook deliveries by outcome (pending, delivered, dead_letter, cancelled)',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = (await db('webhook_deliveries').groupBy('status').select('status', db.raw('count(*)::int as n'))) as {
        status: string;
        n: number;
      }[];
      for (const r of rows) this.set({ outcome: r.status }, r.n);
    },
  });

  const timing: RequestHandler = knownMiddleware((req, res, next) => {
    const end = latency.startTimer();
    res.on('finish', () =>
      end({ method: req.method, route: (req.route as { path?: string } | undefined)?.path ?? 'unmatched', status: String(res.statusCode) }),
    );
    next();
  });

  /** Guarded: the counts describe the business (decisions, approvals); Prometheus scrapes with an admin or service key. */
  const route = (app: Express, ctx: { auth: Auth; docs: ApiDocs }) => {
    app.get(METRICS_PATH, ctx.auth.allow('admin', 'service'), async (_req, res) => {
      res.set('Content-Type', registry.contentType).send(await registry.metrics());
    });
    ctx.docs.add({
      method: 'get',
      path: METRICS_PATH,
      summary: 'Prometheus metrics (text exposition format)',
      access: ['admin', 'service'],
    });
  };
  return { registry, timing, route };
}
