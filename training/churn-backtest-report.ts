/** The churn backtest as a Markdown run report: set-up, model against baselines, reliability, timings. */
import { comparisonToMarkdown, reliabilityToMarkdown } from '../models/evaluation/report';
import type { ChurnBacktestReport } from './churn-backtest';

export function backtestToMarkdown(report: ChurnBacktestReport): string {
  const day = (iso: string) => iso.slice(0, 10);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const { model, rows, timings } = report;
  return [
    `# Churn backtest as of ${day(report.asOf)}, ${report.horizonDays}-day horizon`,
    '',
    `Churn: no completed order in (${day(report.asOf)}, as-of + ${report.horizonDays} days]. The model was trained as of ` +
      `${day(report.trainAsOf)} on ${rows.training.toLocaleString('en-US')} rows from the cutoffs ` +
      `${report.trainingCutoffs.map(day).join(', ')} (${report.boostingRounds ?? 'all'} boosting rounds kept), calibrated on ` +
      `${rows.calibration.toLocaleString('en-US')} customers at ${day(report.calibrationCutoff)}, and scored ` +
      `${rows.scored.toLocaleString('en-US')} customers at ${day(report.asOf)}, of whom ${(model.baseRate * 100).toFixed(1)}% churned.`,
    '',
    comparisonToMarkdown(report.comparison),
    'Baselines rank by their raw scores; their probability metrics (Brier score, log loss, calibration error) are of the ' +
      'scores mapped to probabilities by isotonic calibration on the calibration cutoff. The model is measured on its ' +
      'calibrated probabilities throughout. Calibration error: 10 equal-width bins.',
    '',
    '## Reliability of the model on the scored period',
    '',
    reliabilityToMarkdown(report.reliability),
    '## Timings',
    '',
    `- Feature snapshots (${timings.featureSnapshots}, computed and loaded): ${seconds(timings.featureSnapshotsMs)}`,
    `- Labels: ${seconds(timings.labelsMs)}`,
    `- Training (boosting and calibration): ${seconds(timings.trainingMs)}`,
    `- Scoring ${rows.scored.toLocaleString('en-US')} customers: ${seconds(timings.scoringMs)}`,
    '',
  ].join('\n');
}
