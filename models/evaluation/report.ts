/**
 * A model's metrics set against named baselines (e.g. "last period's churn rate", "recency only"), as
 * plain objects ready for JSON and as Markdown tables for a run report.
 */
import { ValidationError } from '../../lib/errors';
import { defaultTopFractions, type ClassificationMetrics, type ReliabilityBin } from './classification';
import type { RegressionMetrics } from './regression';

/** Which way is better; 'closerToOne' is for ratios such as total predicted ÷ actual. */
export type Better = 'higher' | 'lower' | 'closerToOne';

export interface MetricSpec<M> {
  /** Stable identifier in the JSON output. */
  key: string;
  /** Row heading in Markdown. */
  label: string;
  better: Better;
  value: (metrics: M) => number;
}

export interface NamedMetrics<M> {
  name: string;
  metrics: M;
}

export interface ComparisonRow {
  key: string;
  label: string;
  better: Better;
  /** By model name; null where the value is not a finite number, since JSON has no NaN. */
  values: Record<string, number | null>;
  /** The names holding the best value: several on a tie, none when no value is finite. */
  best: string[];
}

export interface ModelComparison {
  model: string;
  baselines: string[];
  rows: ComparisonRow[];
}

export function compareModels<M>(
  model: NamedMetrics<M>,
  baselines: readonly NamedMetrics<M>[],
  specs: readonly MetricSpec<M>[],
): ModelComparison {
  const entries = [model, ...baselines];
  const names = entries.map((entry) => entry.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) {
    throw new ValidationError(`model name "${duplicate}" appears twice; each column needs its own name`, 'baselines');
  }
  return {
    model: model.name,
    baselines: baselines.map((baseline) => baseline.name),
    rows: specs.map((spec) => {
      const scored = entries.map((entry) => ({ name: entry.name, value: finiteOrNull(spec.value(entry.metrics)) }));
      return {
        key: spec.key,
        label: spec.label,
        better: spec.better,
        values: Object.fromEntries(scored.map(({ name, value }) => [name, value])),
        best: bestNames(scored, spec.better),
      };
    }),
  };
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** Smaller is better, whatever the metric's direction. */
function shortfall(value: number, better: Better): number {
  if (better === 'higher') return -value;
  if (better === 'lower') return value;
  return Math.abs(value - 1);
}

function bestNames(scored: readonly { name: string; value: number | null }[], better: Better): string[] {
  let best = Infinity;
  let names: string[] = [];
  for (const { name, value } of scored) {
    if (value === null) continue;
    const distance = shortfall(value, better);
    if (distance < best) {
      best = distance;
      names = [name];
    } else if (distance === best) {
      names.push(name);
    }
  }
  return names;
}

const betterMarks: Record<Better, string> = { higher: '↑', lower: '↓', closerToOne: '→ 1' };

/** Metric rows × model columns (the model first), the best value of each row in bold. */
export function comparisonToMarkdown(comparison: ModelComparison, digits = 4): string {
  const names = [comparison.model, ...comparison.baselines];
  const lines = [
    `| Metric | ${names.map(escapeCell).join(' | ')} |`,
    `| --- |${names.map(() => ' ---: |').join('')}`,
    ...comparison.rows.map((row) => {
      const cells = names.map((name) => {
        const value = row.values[name];
        if (value === null) return '—';
        const text = value.toFixed(digits);
        return row.best.includes(name) ? `**${text}**` : text;
      });
      return `| ${escapeCell(row.label)} ${betterMarks[row.better]} | ${cells.join(' | ')} |`;
    }),
    '',
    'Best value per metric in bold. ↑ higher is better, ↓ lower is better, → 1 closest to 1 is better.',
  ];
  return `${lines.join('\n')}\n`;
}

export function reliabilityToMarkdown(table: readonly ReliabilityBin[], digits = 3): string {
  const lines = [
    '| Predicted probability | Rows | Mean predicted | Observed rate | Observed − predicted |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...table.map((bin) => {
      const cells = [
        `${bin.lower.toFixed(digits)}–${bin.upper.toFixed(digits)}`,
        String(bin.count),
        bin.meanPredicted.toFixed(digits),
        bin.observedRate.toFixed(digits),
        (bin.observedRate - bin.meanPredicted).toFixed(digits),
      ];
      return `| ${cells.join(' | ')} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

/** A pipe would end the Markdown cell early. */
function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function percent(fraction: number): string {
  return String(Number((fraction * 100).toFixed(2)));
}

/** NaN (shown as "—") when the metrics were evaluated at other top fractions. */
function topFraction(metrics: ClassificationMetrics, fraction: number, field: 'lift' | 'capture'): number {
  return metrics.topFractions.find((top) => top.fraction === fraction)?.[field] ?? NaN;
}

export function classificationMetricSpecs(topFractions: readonly number[] = defaultTopFractions): MetricSpec<ClassificationMetrics>[] {
  return [
    { key: 'rocAuc', label: 'ROC AUC', better: 'higher', value: (m) => m.rocAuc },
    { key: 'averagePrecision', label: 'Average precision (PR-AUC)', better: 'higher', value: (m) => m.averagePrecision },
    { key: 'brierScore', label: 'Brier score', better: 'lower', value: (m) => m.brierScore },
    { key: 'logLoss', label: 'Log loss', better: 'lower', value: (m) => m.logLoss },
    {
      key: 'expectedCalibrationError',
      label: 'Expected calibration error',
      better: 'lower',
      value: (m) => m.expectedCalibrationError,
    },
    ...topFractions.flatMap((fraction): MetricSpec<ClassificationMetrics>[] => [
      {
        key: `liftTop${percent(fraction)}`,
        label: `Lift, top ${percent(fraction)}%`,
        better: 'higher',
        value: (m) => topFraction(m, fraction, 'lift'),
      },
      {
        key: `captureTop${percent(fraction)}`,
        label: `Positives captured, top ${percent(fraction)}%`,
        better: 'higher',
        value: (m) => topFraction(m, fraction, 'capture'),
      },
    ]),
  ];
}

export const regressionMetricSpecs: readonly MetricSpec<RegressionMetrics>[] = [
  { key: 'meanAbsoluteError', label: 'MAE', better: 'lower', value: (m) => m.meanAbsoluteError },
  { key: 'rootMeanSquaredError', label: 'RMSE', better: 'lower', value: (m) => m.rootMeanSquaredError },
  { key: 'spearman', label: 'Spearman rank correlation', better: 'higher', value: (m) => m.spearman },
  { key: 'topDecileCapture', label: 'Value captured, top 10%', better: 'higher', value: (m) => m.topDecileCapture },
  { key: 'predictedToActual', label: 'Total predicted ÷ actual', better: 'closerToOne', value: (m) => m.predictedToActual },
];
