import path from 'node:path';
import type { Command } from 'commander';
import {
  DIRTY_KINDS,
  DRIFT_DAYS,
  DRIFTS,
  generateShop,
  type Drift,
  SESSIONS_MODES,
  SIGNAL_MODES,
  type DirtyRates,
  type GenerateSummary,
  type SessionsMode,
  type SignalMode,
} from '../../datagen/generate';
import { ValidationError } from '../../lib/errors';
import { fmtInt, fmtSeconds, table } from '../format';
import { wholeNumberOption } from '../options';
import { progress } from '../progress';

export interface GenerateCliOptions {
  customers: string;
  seed: string;
  out: string;
  asOf?: string;
  dirtyRate?: string;
  sessions?: string;
  signal?: string;
  drift?: string;
}

/** One of the given modes, or undefined for the generator's default; the error names the option without dashes. */
export function modeOption<Mode extends string>(value: string | undefined, name: string, modes: readonly Mode[]): Mode | undefined {
  if (value === undefined) return undefined;
  const mode = modes.find((m) => m === value);
  if (mode === undefined) throw new ValidationError(`${name} must be one of ${modes.join(', ')}, got '${value}'`, name);
  return mode;
}

/** Generates with a progress bar; shared by `generate` and `demo`. */
export async function generateWithProgress(opts: {
  customers: number;
  seed: number;
  outDir: string;
  asOf?: string;
  dirtyRate?: number;
  sessions?: SessionsMode;
  signal?: SignalMode;
  drift?: Drift;
}) {
  const bar = progress('generate', opts.customers, ' customers');
  const dirtyRates =
    opts.dirtyRate === undefined ? undefined : (Object.fromEntries(DIRTY_KINDS.map((k) => [k, opts.dirtyRate])) as DirtyRates);
  const summary = await generateShop(
    {
      customers: opts.customers,
      seed: opts.seed,
      outDir: opts.outDir,
      ...(opts.asOf ? { asOf: opts.asOf } : {}),
      ...(dirtyRates ? { dirtyRates } : {}),
      ...(opts.sessions ? { sessions: opts.sessions } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.drift ? { drift: opts.drift } : {}),
    },
    (done, total) => bar.update(done, total),
  );
  bar.stop();
  return summary;
}

export function generateReport(s: GenerateSummary): string {
  const files = table(
    ['file', 'rows'],
    Object.values(s.files).map((f) => [path.basename(f.path), fmtInt(f.rows)]),
  );
  const dirt = table(
    ['dirt injected', 'rows', 'of eligible', 'rate'],
    Object.entries(s.dirty).map(([kind, d]) => [
      kind,
      fmtInt(d.injected),
      fmtInt(d.eligible),
      d.eligible ? `${((100 * d.injected) / d.eligible).toFixed(2)}%` : '-',
    ]),
  );
  const modes =
    (s.sessions === 'none' ? 'no sessions' : `${s.signal} session signal`) +
    (s.drift === 'none' ? '' : `, ${s.drift} drift over the last ${DRIFT_DAYS} days`);
  return `${files}\n\n${dirt}\n\n${fmtInt(s.customers)} customers (seed ${s.seed}, ${modes}), history to ${s.exportInstant}, in ${fmtSeconds(s.elapsedMs)} -> ${s.outDir}`;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('Write a synthetic shop (ingestion files, ground truth, dirty-row log) for demos and model evaluation')
    .requiredOption('--out <dir>', 'output folder')
    .option('--customers <n>', 'number of customers', '10000')
    .option('--seed <n>', 'random seed: the same seed gives byte-identical files', '42')
    .option('--as-of <date>', 'export date YYYY-MM-DD (history ends that day)')
    .option('--dirty-rate <p>', 'rate of each kind of dirty data, 0..1 (default 0.005)')
    .option('--sessions <mode>', `sessions to write: ${SESSIONS_MODES.join(' or ')}; none makes a transactions-only shop (default all)`)
    .option(
      '--signal <mode>',
      `how cleanly sessions foretell dropout: ${SIGNAL_MODES.join(' or ')} (default strong: a fade over exactly the 90 days before)`,
    )
    .option(
      '--drift <feature>',
      `inject a drift into the last ${DRIFT_DAYS} days: ${DRIFTS.join(' or ')} (page_views: sessions record five times their ` +
        'page views, so page_views_30d shifts and the next scoring run raises a feature_drift alert)',
    )
    .action(async (opts: GenerateCliOptions) => {
      const dirtyRate = opts.dirtyRate === undefined ? undefined : Number(opts.dirtyRate);
      if (dirtyRate !== undefined && !(dirtyRate >= 0 && dirtyRate <= 0.25))
        throw new ValidationError('--dirty-rate must be from 0 to 0.25', 'dirty-rate');
      const summary = await generateWithProgress({
        customers: wholeNumberOption(opts.customers, 'customers'),
        seed: wholeNumberOption(opts.seed, 'seed'),
        outDir: path.resolve(opts.out),
        asOf: opts.asOf,
        dirtyRate,
        sessions: modeOption(opts.sessions, 'sessions', SESSIONS_MODES),
        signal: modeOption(opts.signal, 'signal', SIGNAL_MODES),
        drift: modeOption(opts.drift, 'drift', DRIFTS),
      });
      console.log(generateReport(summary));
    });
}
