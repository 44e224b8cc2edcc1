import type { Express, RequestHandler } from 'express';
import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { latestMaturedOutcome, type RunOutcome } from '../monitoring/outcomes';
import { latestReport } from '../monitoring/run-monitoring';
import type { ServedProfiles } from '../policy/served-profile-cache';
import type { Auth } from './auth';
import type { ApiDocs } from './openapi';
import { knownMiddleware } from './route-table';

/** The Prometheus text endpoint (not JSON: scrapers expect the exposition format). */
export const METRICS_PATH = '/metrics';

/**
 * Prometheus metrics of one app: request latency by route (the route's pattern, never the raw path, so ids do not
 * explode the label set), and, read from Postgres at each scrape, actions by type and status, approvals pending and
 * webhook deliveries by outcome, the latest monitoring report's figures with the open alerts, and the profiles served
 * from memory and from the database.
 */
export function createMetrics(db: Knex, servedProfiles: ServedProfiles) {
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

  new Counter({
    name: 'foresight_served_profiles_total',
    help: 'Profiles served by GET /customer/profile, by source: memory (the cache) or database',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ source: 'memory' }, servedProfiles.counts.hits);
      this.inc({ source: 'database' }, servedProfiles.counts.misses);
    },
  });
  monitoringGauges(db, registry);
  outcomeGauges(db, registry);

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

/** The latest monitoring report's figures (monitoring/figures.ts) and the open alerts by kind, read at each scrape. */
function monitoringGauges(db: Knex, registry: Registry) {
  const report = () => latestReport(db);
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    set: (g: Gauge, f: NonNullable<Awaited<ReturnType<typeof report>>>['figures']) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const latest = await report();
        if (latest) set(this, latest.figures);
      },
    });
  gauge('foresight_monitoring_feature_psi', 'PSI of each feature against the previous run', ['feature'], (g, f) => {
    for (const [feature, value] of Object.entries(f.featurePsi)) if (value !== null) g.set({ feature }, value);
  });
  gauge('foresight_monitoring_score_psi', 'PSI of the churn probabilities against the previous run', [], (g, f) => {
    if (f.scorePsi !== null) g.set(f.scorePsi);
  });
  gauge('foresight_monitoring_segment_change_share', 'Share of customers whose segment changed since the previous run', [], (g, f) => {
    if (f.segmentChangeShare !== null) g.set(f.segmentChangeShare);
  });
  gauge('foresight_monitoring_coverage', "Share of the snapshot's customers with a churn probability", [], (g, f) => {
    if (f.coverage !== null) g.set(f.coverage);
  });
  gauge('foresight_monitoring_confidence_share', 'Share of profiles by confidence', ['confidence'], (g, f) => {
    for (const [confidence, share] of Object.entries(f.confidenceMix)) g.set({ confidence }, share);
  });
  gauge('foresight_monitoring_source_age_days', "Days between a source's newest event and the run's as-of", ['source'], (g, f) => {
    for (const [source, s] of Object.entries(f.sourceFreshness)) if (s.ageDays !== null) g.set({ source }, s.ageDays);
  });
  gauge('foresight_monitoring_run_age_days', "Days between the latest run's as-of and the newest data", [], (g, f) => g.set(f.runAgeDays));
  new Gauge({
    name: 'foresight_alerts_open',
    help: 'Open monitoring alerts by kind',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = (await db('alerts').where({ status: 'open' }).groupBy('kind').select('kind', db.raw('count(*)::int as n'))) as {
        kind: string;
        n: number;
      }[];
      for (const r of rows) this.set({ kind: r.kind }, r.n);
    },
  });
}

/**
 * The newest matured run's outcomes (monitoring/outcomes.ts), read at each scrape: churn predicted against realised
 * with the Brier score, CLV predicted against realised, and the as-of of the run each comes from.
 */
function outcomeGauges(db: Knex, registry: Registry) {
  const gauge = (name: string, help: string, labelNames: string[], kind: 'churn' | 'clv', set: (g: Gauge, o: RunOutcome) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const outcome = await latestMaturedOutcome(db, kind);
        if (outcome) set(this, outcome);
      },
    });
  gauge(
    'foresight_monitoring_churn_rate',
    'Mean predicted churn probability and realised churn share of the newest run whose churn horizon has matured',
    ['source'],
    'churn',
    (g, o) => {
      if (o.churn.predicted !== null) g.set({ source: 'predicted' }, o.churn.predicted);
      if (o.churn.realised !== null) g.set({ source: 'realised' }, o.churn.realised);
    },
  );
  gauge('foresight_monitoring_churn_brier', 'Brier score of the newest run whose churn horizon has matured', [], 'churn', (g, o) => {
    if (o.churn.brier !== null) g.set(o.churn.brier);
  });
  gauge(
    'foresight_monitoring_clv_net_revenue',
    'Net revenue over the CLV horizon, predicted and realised, of the newest run whose CLV horizon has matured (currency units)',
    ['source'],
    'clv',
    (g, o) => {
      if (o.clv.predicted !== null) g.set({ source: 'predicted' }, Number(o.clv.predicted));
      if (o.clv.realised !== null) g.set({ source: 'realised' }, Number(o.clv.realised));
    },
  );
  gauge('foresight_monitoring_clv_realised_ratio', 'Realised over predicted net revenue of that run (1 is unbiased)', [], 'clv', (g, o) => {
    if (o.clv.ratio !== null) g.set(o.clv.ratio);
  });
  for (const kind of ['churn', 'clv'] as const)
    gauge(
      `foresight_monitoring_${kind}_outcome_as_of_seconds`,
      `As-of (Unix seconds) of the run the ${kind} outcome gauges come from`,
      [],
      kind,
      (g, o) => g.set(new Date(o.asOf).getTime() / 1000),
    );
}
