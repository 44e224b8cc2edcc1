import path from 'node:path';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import { importCdnow } from '../../ingestion/import-cdnow';
import { runBacktest } from '../../training/backtest';
import { clvBacktestSummaryLine } from '../../training/clv-backtest';
import { scoreCustomers, type ScoreSummary } from '../../scoring/score-customers';
import { trainModels, type TrainModelsResult } from '../../training/train-models';
import { listModels, MODEL_STATUSES, type ModelStatus } from '../../registry/model-registry';
import { changeModelStatus } from '../../registry/model-status';
import { profileDocument } from '../../scoring/profile-document';
import { segmentMigrationOfPairs } from '../../models/segments/migration';
import { segmentPairsOfRuns } from '../../scoring/segment-pairs';
import { publishedRunAt } from '../../scoring/scoring-runs';
import { config } from '../../lib/config';
import { createDb, migrateLatest } from '../../lib/db';
import { NotFoundError, ValidationError } from '../../lib/errors';
import { DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_CLV_HORIZON_MONTHS, MS_PER_DAY } from '../../lib/horizons';
import { databaseUrl, ensureDatabase, postgresUp } from '../../stack/postgres';
import { fmtInt, fmtSeconds, table } from '../format';
import { dateOption, positiveWholeNumberOption } from '../options';
import { withDatabase } from '../with-db';
import { cdnowDir } from '../../lib/project-root';
import type { Interval } from '../../models/evaluation/bootstrap';

/** The newest completed order: the data's "now" when no as-of is given. */
export async function latestOrderAt(db: Knex): Promise<Date> {
  const row = await db('orders').max({ at: 'ordered_at' }).first();
  if (!row?.at) throw new NotFoundError('There are no orders yet: ingest data first (npm run demo, or foresight ingest)');
  return new Date(row.at as Date);
}

export function trainingReport(result: TrainModelsResult): string {
  return (
    table(
      ['model', 'version', 'status', 'id'],
      result.models.map((m) => [m.kind, m.version, m.status, m.modelId]),
    ) + (result.clvChoice ? `\nCLV serving model: ${result.clvChoice.model} (${result.clvChoice.reason})` : '')
  );
}

/** What monitoring found in a run the scoring workflow published (the alerts it opened hold automatic approval). */
export function monitoringLine(m: { breaches: string[]; opened: number; resolved: number }): string {
  return m.breaches.length === 0
    ? `Monitoring: no threshold breached${m.resolved ? ` (${m.resolved} alert(s) resolved)` : ''}`
    : `Monitoring: ${m.breaches.join(', ')} (${m.opened} alert(s) opened; automatic approval holds while one is open: GET /monitoring)`;
}

export function scoringReport(s: ScoreSummary & { monitoring?: Parameters<typeof monitoringLine>[0] }): string {
  const share = (n: number) => `${((100 * n) / Math.max(s.customers, 1)).toFixed(1)}%`;
  const rows = (o: Record<string, number>) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => [k, fmtInt(n), share(n)]);
  return [
    table(['churn risk band', 'customers', 'share'], rows(s.riskBands)),
    '',
    table(['segment', 'customers', 'share'], rows(s.segments)),
    '',
    table(['confidence', 'customers', 'share'], rows(s.confidence)),
    '',
    `${fmtInt(s.customers)} customers scored as of ${s.asOf} in ${fmtSeconds(s.elapsedMs)} (run ${s.runId}); ` +
      `expected net revenue over the CLV horizon: ${s.expectedNetRevenue}`,
    ...(s.monitoring ? [monitoringLine(s.monitoring)] : []),
  ].join('\n');
}

export function registerModels(program: Command): Command {
  program
    .command('train')
    .description('Train churn, CLV and segment models as of a date and record them in the model registry')
    .option('--as-of <time>', 'train on data up to this time (default: the newest order)')
    .option('--churn-horizon-days <n>', 'churn = no order within this many days', String(DEFAULT_CHURN_HORIZON_DAYS))
    .option('--clv-horizon-months <n>', 'CLV forecast horizon', String(DEFAULT_CLV_HORIZON_MONTHS))
    .option('--by <name>', 'who trains (recorded in the registry)', process.env.USER ?? 'cli')
    .option('--promote', 'make the new models champions at once (otherwise they run in shadow once a champion exists)')
    .action(async (opts: { asOf?: string; churnHorizonDays: string; clvHorizonMonths: string; by: string; promote?: boolean }) => {
      await withDatabase(async (db) => {
        const asOf = opts.asOf ? dateOption(opts.asOf, '--as-of') : await latestOrderAt(db);
        const result = await trainModels(db, {
          asOf,
          churnHorizonDays: positiveWholeNumberOption(opts.churnHorizonDays, 'churn-horizon-days'),
          clvHorizonMonths: positiveWholeNumberOption(opts.clvHorizonMonths, 'clv-horizon-months'),
          createdBy: opts.by,
          promote: opts.promote,
        });
        console.log(trainingReport(result));
      });
    });

  program
    .command('score')
    .description('Score every customer with the champion models into customer_risk_scores')
    .option('--as-of <time>', 'score as of this time (default: the newest order)')
    .action(async (opts: { asOf?: string }) => {
      await withDatabase(async (db) => {
        const asOf = opts.asOf ? dateOption(opts.asOf, '--as-of') : await latestOrderAt(db);
        console.log(scoringReport(await scoreCustomers(db, { asOf })));
      });
    });

  program
    .command('profile')
    .description("Print a customer's latest predictive profile: the JSON of GET /customer/profile/:id")
    .argument('<customer_id>')
    .option('--embedding', 'include the behaviour embedding (as ?include=embedding)')
    .action(async (customerId: string, opts: { embedding?: boolean }) => {
      await withDatabase(async (db) => {
        console.log(JSON.stringify(await profileDocument(db, customerId, { embedding: opts.embedding ?? false }), null, 2));
      });
    });

  program
    .command('segment-migration')
    .description('How customers moved between segments from one scoring run to another (counts and row shares)')
    .requiredOption('--from <time>', 'as-of of the earlier scoring run')
    .requiredOption('--to <time>', 'as-of of the later scoring run')
    .action(async (opts: { from: string; to: string }) => {
      await withDatabase(async (db) => {
        const runAt = async (option: '--from' | '--to', value: string) => {
          const asOf = dateOption(value, option);
          const runId = await publishedRunAt(db, asOf);
          if (runId === undefined)
            throw new NotFoundError(
              `No published scoring run as of ${asOf.toISOString()} (${option}); see: select as_of from scoring_runs where published_at is not null`,
            );
          return runId;
        };
        const m = segmentMigrationOfPairs(await segmentPairsOfRuns(db, await runAt('--from', opts.from), await runAt('--to', opts.to)));
        console.log(
          table(
            ['from \\ to', ...m.to],
            m.from.map((name, i) => [name, ...m.counts[i]!.map((n, j) => `${fmtInt(n)} (${(100 * m.shares[i]![j]!).toFixed(0)}%)`)]),
          ),
        );
        console.log(`\n${fmtInt(m.customers)} customers; each row's shares sum to 100%.`);
      });
    });

  const models = program.command('models').description('The model registry: list, inspect, compare, promote and roll back models');
  models
    .command('list')
    .description('List registered models, newest first')
    .option('--kind <kind>', 'churn, clv or segments')
    .action(async (opts: { kind?: string }) => {
      await withDatabase(async (db) => {
        const rows = await listModels(db, { kind: opts.kind });
        console.log(
          table(
            ['id', 'kind', 'version', 'status', 'trained to', 'created by', 'promoted by'],
            rows.map((m) => [m.modelId, m.kind, m.version, m.status, m.trainingTo?.slice(0, 10) ?? '-', m.createdBy, m.promotedBy ?? '-']),
          ),
        );
      });
    });
  models
    .command('promote')
    .description('Move a model along its life cycle (candidate, shadow, champion, retired); audited')
    .argument('<model_id>')
    .requiredOption('--to <status>', MODEL_STATUSES.join(' | '))
    .requiredOption('--by <name>', 'who decides (recorded)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action(async (id: string, opts: { to: string; by: string; reason: string }) => {
      await withDatabase(async (db) => {
        const m = await changeModelStatus(db, {
          modelId: positiveWholeNumberOption(id, 'model_id'),
          // changeModelStatus refuses anything that is not a status.
          to: opts.to as ModelStatus,
          actor: { name: opts.by, role: null, via: 'cli' },
          reason: opts.reason,
        });
        console.log(`Model ${m.modelId} (${m.kind} v${m.version}) is now ${m.status}.`);
      });
    });

  program
    .command('backtest')
    .description(
      'Rolling-origin churn bake-off (models against rule-based baselines, with bootstrap intervals) and the CLV backtest, at a past date',
    )
    .option('--dataset <name>', 'current (the Foresight database) or cdnow (the CDNOW log, imported into its own database)', 'current')
    .option('--out <dir>', 'folder for backtest.json and backtest.md')
    .option(
      '--as-of <date>',
      'evaluate at this date: churn and CLV score it and compare with what followed (default: one horizon before the data ends)',
    )
    .option('--churn-horizon-days <n>', 'H for churn', String(DEFAULT_CHURN_HORIZON_DAYS))
    .option('--clv-horizon-days <n>', 'H for CLV (default 365; 273 = 39 weeks for CDNOW)')
    .action(async (opts: { dataset: string; out?: string; asOf?: string; churnHorizonDays: string; clvHorizonDays?: string }) => {
      const cfg = config();
      const churnH = positiveWholeNumberOption(opts.churnHorizonDays, 'churn-horizon-days');
      const asOf = opts.asOf === undefined ? undefined : dateOption(opts.asOf, '--as-of');
      const outDir = path.resolve(opts.out ?? path.join(cfg.home, 'reports', `backtest-${opts.dataset}`));
      const run = async (db: Knex, dataAsOf: Date, defaultClvAsOf: Date, clvH: number) => {
        if (asOf && asOf.getTime() >= dataAsOf.getTime()) {
          throw new ValidationError(`--as-of ${asOf.toISOString()} is not before the data's end ${dataAsOf.toISOString()}`, 'as-of');
        }
        const report = await runBacktest(db, {
          dataset: opts.dataset,
          churnAsOf: asOf ?? new Date(dataAsOf.getTime() - churnH * MS_PER_DAY),
          churnHorizonDays: churnH,
          clvAsOf: asOf ?? defaultClvAsOf,
          clvHorizonDays: clvH,
          dataAsOf,
          outDir,
        });
        const { bakeOff } = report.churn;
        const served = bakeOff.candidates.find((c) => c.name === bakeOff.served)!;
        const best = bakeOff.candidates.find((c) => c.name === bakeOff.bestBaseline)!;
        const ci = (i: Interval) => `${i.estimate.toFixed(3)} [${i.lower.toFixed(3)}, ${i.upper.toFixed(3)}]`;
        console.log(
          `Churn (${report.churn.origins.length} origins, ${fmtInt(bakeOff.rows)} rows): serving ${served.label}, AUC ${ci(served.rocAuc)}; ` +
            `best baseline ${best.label} ${ci(best.rocAuc)}; margin ${ci(bakeOff.marginOverBestBaseline)}; ` +
            `ECE ${ci(served.expectedCalibrationError)}`,
        );
        console.log(clvBacktestSummaryLine(report.clv));
        console.log(`Report: ${path.join(outDir, report.files.markdown)}\n        ${path.join(outDir, report.files.json)}`);
      };
      if (opts.dataset === 'cdnow') {
        // Its own database: the CDNOW log is a benchmark, not a shop to mix with the current one.
        await postgresUp(cfg);
        await ensureDatabase(databaseUrl(cfg, 'postgres'), 'foresight_cdnow');
        const db = createDb(databaseUrl(cfg, 'foresight_cdnow'));
        try {
          await migrateLatest(db);
          await importCdnow(db, path.join(cdnowDir, 'CDNOW_master.txt'));
          // The standard split: calibration to 1997-09-30, then 39 weeks; data complete to 1998-07-01.
          await run(
            db,
            new Date('1998-07-01T00:00:00Z'),
            new Date('1997-09-30T00:00:00Z'),
            positiveWholeNumberOption(opts.clvHorizonDays ?? '273', 'clv-horizon-days'),
          );
        } finally {
          await db.destroy();
        }
      } else if (opts.dataset === 'current') {
        await withDatabase(async (db) => {
          const dataAsOf = await latestOrderAt(db);
          const clvH = positiveWholeNumberOption(opts.clvHorizonDays ?? '365', 'clv-horizon-days');
          await run(db, dataAsOf, new Date(dataAsOf.getTime() - clvH * MS_PER_DAY), clvH);
        });
      } else {
        throw new ValidationError(`--dataset must be current or cdnow, got "${opts.dataset}"`, 'dataset');
      }
    });
  return models;
}
