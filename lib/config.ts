import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors';
import { projectRoot } from './project-root';

/**
 * The one configuration module. Everything configurable comes from the environment, is validated here once,
 * and is documented in the README's configuration table (keep the two in step).
 */
const port = z.coerce.number().int().min(1).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

/** Scoring partitions one worker process runs at once (bench/RESULTS.md, "Two worker processes on one task queue"). */
export const DEFAULT_PARTITIONS_PER_WORKER = 2;

/** Channel name to the cost of acquiring one customer through it: a decimal string in the shop's currency. */
const acquisitionCosts = z.record(
  z.string().trim().min(1, 'channel names are not empty'),
  z.string().regex(/^\d{1,12}(\.\d{1,2})?$/, 'a cost is a decimal string with at most 2 decimals, e.g. "42.50"'),
);

const schema = z.object({
  FORESIGHT_HOME: optionalString,
  DATABASE_URL: optionalString,
  FORESIGHT_API_DATABASE_URL: optionalString,
  FORESIGHT_WORKER_DATABASE_URL: optionalString,
  FORESIGHT_PG_PORT: port.default(54329),
  FORESIGHT_PG_DATABASE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'lower-case letters, digits and _')
    .default('foresight'),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('foresight'),
  TEMPORAL_CLI_PATH: optionalString,
  FORESIGHT_TEMPORAL_PORT: port.default(7233),
  FORESIGHT_TEMPORAL_UI_PORT: port.default(8233),
  XGBOOST_LIBRARY_PATH: optionalString,
  FORESIGHT_IMPORT_DIR: optionalString,
  FORESIGHT_QUALITY_RULES: optionalString,
  FORESIGHT_API_PORT: port.default(8080),
  FORESIGHT_INGEST_MAX_RECORD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1 << 20),
  FORESIGHT_INGEST_MAX_DEPTH: z.coerce.number().int().min(1).max(1000).default(32),
  FORESIGHT_API_POOL_MAX: z.coerce.number().int().min(1).max(100).default(8),
  FORESIGHT_API_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(2000),
  FORESIGHT_API_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(1500),
  FORESIGHT_API_SIMILAR_PER_SECOND: z.coerce.number().int().min(1).max(10_000).default(5),
  FORESIGHT_PROFILE_FRESHNESS_DAYS: z.coerce.number().min(0.01).max(3650).default(7),
  FORESIGHT_PROFILE_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).max(10_000_000).default(20_000),
  FORESIGHT_TRAINING_SAMPLE_CUSTOMERS: z.coerce.number().int().min(1000).default(100_000),
  FORESIGHT_SCORING_PARTITIONS_PER_WORKER: z.coerce.number().int().min(1).max(100).default(DEFAULT_PARTITIONS_PER_WORKER),
  FORESIGHT_SECRET_KEY: optionalString.refine((v) => v === undefined || /^[A-Za-z0-9+/]{43}=$/.test(v), {
    message: '32 random bytes in base64 (openssl rand -base64 32)',
  }),
  FORESIGHT_ACQUISITION_COSTS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return {};
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'a JSON object of channel to cost, e.g. {"paid_search":"42.50"}' });
        return z.NEVER;
      }
      const costs = acquisitionCosts.safeParse(parsed);
      if (!costs.success) {
        ctx.addIssue({ code: 'custom', message: costs.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ') });
        return z.NEVER;
      }
      return costs.data;
    }),
  FORESIGHT_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface Config {
  /** Project-local state: embedded Postgres data, Temporal's SQLite file, logs, pid files. */
  home: string;
  logsDir: string;
  /** `roleUrls`: the API's and workers' least-privilege logins on DATABASE_URL's server (default: DATABASE_URL itself). */
  postgres: { url?: string; roleUrls: { api?: string; worker?: string }; port: number; database: string };
  temporal: { address?: string; namespace: string; taskQueue: string; cliPath?: string; port: number; uiPort: number };
  xgboostLibraryPath?: string;
  /** Workers ingest only files under this folder (workflow inputs name files on the worker's machine). */
  importDir: string;
  /** JSON file overriding the data-quality gate's thresholds and actions (quality/rules.ts). */
  qualityRulesFile?: string;
  api: {
    port: number;
    /** Connections of the API's main pool (health checks have their own two). */
    poolMax: number;
    /** Postgres cancels any API statement running longer than this, so no request holds a connection for long. */
    statementTimeoutMs: number;
    /** How long a request waits for a pooled connection (or a new one) before answering 503. */
    acquireTimeoutMs: number;
    /** Requests per second that one API key may make to /customer/profile/:id/similar. */
    similarPerSecond: number;
    /** A profile whose scoring run is older than this is served as stale, with the rule-based fallback beside it. */
    profileFreshnessDays: number;
    /** Served profiles each API process keeps in memory (policy/served-profile-cache.ts); 0 keeps none. */
    profileCacheMaxEntries: number;
  };
  /** Per-record limits of ingestion: a record over either is rejected, and the rest of the file still loads. */
  ingest: { maxRecordBytes: number; maxDepth: number };
  /** Seals stored secrets (webhook signing secrets); unset, the embedded stack generates one into its state file. */
  secretKey?: string;
  /** Cost of acquiring one customer per acquisition channel (decimal strings), for CLV against acquisition cost. */
  finance: { acquisitionCosts: Record<string, string> };
  /**
   * A shop with more purchasers than sampleCustomers trains every model on a seeded sample of about that many
   * (features/training-sample.ts), so training time stops growing with the shop; scoring still covers everyone.
   */
  training: { sampleCustomers: number };
  /**
   * Scoring partitions one worker process runs at once (its Worker on the scoring task queue has this many activity
   * slots): partitions are CPU-bound on the process's one JavaScript thread, so more only interleave them.
   */
  scoring: { partitionsPerWorker: number };
  logLevel: z.infer<typeof schema>['FORESIGHT_LOG_LEVEL'];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  for (const name of ['FORESIGHT_API_DATABASE_URL', 'FORESIGHT_WORKER_DATABASE_URL'] as const) {
    if (e[name] && !e.DATABASE_URL) {
      throw new ConfigError(`Invalid configuration: ${name} needs DATABASE_URL (the embedded server makes its own users)`);
    }
  }
  const home = path.resolve(projectRoot, e.FORESIGHT_HOME ?? '.foresight');
  return {
    home,
    logsDir: path.join(home, 'logs'),
    postgres: {
      url: e.DATABASE_URL,
      roleUrls: { api: e.FORESIGHT_API_DATABASE_URL, worker: e.FORESIGHT_WORKER_DATABASE_URL },
      port: e.FORESIGHT_PG_PORT,
      database: e.FORESIGHT_PG_DATABASE,
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      cliPath: e.TEMPORAL_CLI_PATH,
      port: e.FORESIGHT_TEMPORAL_PORT,
      uiPort: e.FORESIGHT_TEMPORAL_UI_PORT,
    },
    xgboostLibraryPath: e.XGBOOST_LIBRARY_PATH,
    importDir: path.resolve(projectRoot, e.FORESIGHT_IMPORT_DIR ?? home),
    qualityRulesFile: e.FORESIGHT_QUALITY_RULES ? path.resolve(projectRoot, e.FORESIGHT_QUALITY_RULES) : undefined,
    api: {
      port: e.FORESIGHT_API_PORT,
      poolMax: e.FORESIGHT_API_POOL_MAX,
      statementTimeoutMs: e.FORESIGHT_API_STATEMENT_TIMEOUT_MS,
      acquireTimeoutMs: e.FORESIGHT_API_ACQUIRE_TIMEOUT_MS,
      similarPerSecond: e.FORESIGHT_API_SIMILAR_PER_SECOND,
      profileFreshnessDays: e.FORESIGHT_PROFILE_FRESHNESS_DAYS,
      profileCacheMaxEntries: e.FORESIGHT_PROFILE_CACHE_MAX_ENTRIES,
    },
    ingest: { maxRecordBytes: e.FORESIGHT_INGEST_MAX_RECORD_BYTES, maxDepth: e.FORESIGHT_INGEST_MAX_DEPTH },
    secretKey: e.FORESIGHT_SECRET_KEY,
    finance: { acquisitionCosts: e.FORESIGHT_ACQUISITION_COSTS },
    training: { sampleCustomers: e.FORESIGHT_TRAINING_SAMPLE_CUSTOMERS },
    scoring: { partitionsPerWorker: e.FORESIGHT_SCORING_PARTITIONS_PER_WORKER },
    logLevel: e.FORESIGHT_LOG_LEVEL,
  };
}

let cached: Config | undefined;
/** The process-wide configuration, validated on first use (start-up). */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
