import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { backtestChurn, type ChurnBacktestReport } from './churn-backtest';
import { backtestClv, chooseClvModel, clvBacktestToMarkdown, type ClvBacktestResult, type ClvModelChoice } from './clv-backtest';

export interface BacktestInput {
  dataset: string;
  /** Churn: the latest origin t of the rolling-origin bake-off, compared with (t, t + H]. */
  churnAsOf: Date;
  churnHorizonDays: number;
  clvAsOf: Date;
  clvHorizonDays: number;
  /** The instant up to which the data is complete. */
  dataAsOf: Date;
  /** Folder for backtest.json and backtest.md. */
  outDir: string;
}

export interface BacktestReport {
  dataset: string;
  generatedAt: string;
  churn: ChurnBacktestReport;
  clv: ClvBacktestResult;
  clvChoice: ClvModelChoice;
  /** The report's files, relative to the out dir: the report is committed as an example, so it names no local path. */
  files: { json: string; markdown: string };
}

/** Both backtests on one dataset, written as JSON (machine-readable) and Markdown (for people). */
export async function runBacktest(db: Knex, input: BacktestInput): Promise<BacktestReport> {
  const churn = await backtestChurn(db, { asOf: input.churnAsOf, dataAsOf: input.dataAsOf, horizonDays: input.churnHorizonDays });
  const clv = await backtestClv(db, { asOf: input.clvAsOf, horizonDays: input.clvHorizonDays, dataset: input.dataset });
  const clvChoice = chooseClvModel(clv);
  fs.mkdirSync(input.outDir, { recursive: true });
  const files = { json: 'backtest.json', markdown: 'backtest.md' };
  const report: BacktestReport = {
    dataset: input.dataset,
    generatedAt: new Date().toISOString(),
    churn: churn.report,
    clv,
    clvChoice,
    files,
  };
  fs.writeFileSync(path.join(input.outDir, files.json), JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(
    path.join(input.outDir, files.markdown),
    [
      `# Backtest: ${input.dataset}`,
      '',
      `Data complete to ${input.dataAsOf.toISOString()}. Churn: rolling origins up to ` +
        `t = ${input.churnAsOf.toISOString().slice(0, 10)}, each compared with what happened in the next ${input.churnHorizonDays} days. ` +
        `CLV: scored at ${input.clvAsOf.toISOString().slice(0, 10)} for the next ${input.clvHorizonDays} days.`,
      '',
      '## Churn',
      '',
      demoteHeadings(churn.markdown),
      '',
      '## Customer lifetime value',
      '',
      demoteHeadings(clvBacktestToMarkdown(clv)),
      '',
      `**Serving model:** ${clvChoice.model} — ${clvChoice.reason}`,
      '',
    ].join('\n'),
  );
  return report;
}

/** The sections' own headings sit under this report's "##" sections. */
function demoteHeadings(markdown: string): string {
  return markdown.replace(/^(#{1,3}) /gm, '### ');
}
