import type { Command } from 'commander';
import { latestQualityGate, runQualityGate, type GateResult } from '../../quality/gate';
import { loadQualityRules } from '../../quality/rules';
import { NotFoundError } from '../../lib/errors';
import { table } from '../format';
import { dateOption } from '../options';
import { withDatabase } from '../with-db';

export function qualityReport(gate: GateResult): string {
  const value = (v: number | null) => (v === null ? '-' : Number.isFinite(v) ? v.toFixed(3) : String(v));
  return [
    table(
      ['source', 'check', 'value', 'threshold', 'action', 'status'],
      gate.checks.map((c) => [c.source, c.check, value(c.value), value(c.threshold), c.action, c.status]),
    ),
    '',
    ...gate.checks.filter((c) => c.status !== 'pass').map((c) => `${c.status.toUpperCase()} ${c.source} ${c.check}: ${c.detail}`),
    `Gate ${gate.gateRun} as of ${gate.asOf}: ${gate.status.toUpperCase()} (${gate.checks.filter((c) => c.status === 'pass').length} of ${gate.checks.length} checks passed)`,
  ].join('\n');
}

export function registerQuality(program: Command): void {
  program
    .command('quality')
    .description(
      'The data-quality gate: the latest recorded verdicts, or --as-of DATE to check the sources now (exit code 1 on a failed gate)',
    )
    .option('--as-of <time>', 'run the gate now for this as-of and record it')
    .option('--gate-run <name>', 'show (or record under) this gate run instead of the latest')
    .action(async (opts: { asOf?: string; gateRun?: string }) => {
      await withDatabase(async (db, cfg) => {
        let gate: GateResult | undefined;
        if (opts.asOf) {
          const asOf = dateOption(opts.asOf, '--as-of');
          const rules = loadQualityRules(cfg.qualityRulesFile);
          gate = await runQualityGate(db, { asOf, rules, gateRun: opts.gateRun ?? `manual-${asOf.toISOString().slice(0, 10)}` });
        } else {
          gate = await latestQualityGate(db, opts.gateRun);
          if (!gate) throw new NotFoundError('No data-quality gate has run yet: run one with foresight quality --as-of DATE');
        }
        console.log(qualityReport(gate));
        if (gate.status === 'fail') process.exitCode = 1;
      });
    });
}
