/**
 * Parses XGBoosterEvalOneIter's text ("[3]\ttrain-auc:0.98\tvalidation-auc:0.95") into numbers. Metric
 * names may themselves contain '-' (e.g. "ndcg@5-"), so each entry is split on the evaluation-set name
 * we passed in rather than on the first '-'.
 */
import { ModelError } from '../../lib/errors';

export interface MetricValue {
  /** The evaluation set's name, as given to train(). */
  dataset: string;
  metric: string;
  value: number;
}

export interface IterationEvaluation {
  iteration: number;
  /** In XGBoost's order: by evaluation set, then by metric in the order eval_metric was set. */
  metrics: MetricValue[];
}

export function parseEvaluation(text: string, datasetNames: readonly string[]): MetricValue[] {
  // Longest first, so that a set named "valid-b" is not read as set "valid" with metric "b-…".
  const names = [...datasetNames].sort((a, b) => b.length - a.length);
  return text
    .trim()
    .split('\t')
    .slice(1)
    .map((entry) => {
      const dataset = names.find((name) => entry.startsWith(`${name}-`));
      const separator = entry.lastIndexOf(':');
      if (dataset === undefined || separator < 0) {
        throw new ModelError(`Unexpected XGBoost evaluation output: ${JSON.stringify(text)}`);
      }
      return {
        dataset,
        metric: entry.slice(dataset.length + 1, separator),
        value: parseMetricValue(entry.slice(separator + 1)),
      };
    });
}

/** XGBoost prints C++ stream text, so infinities come as "inf" rather than JavaScript's "Infinity". */
function parseMetricValue(text: string): number {
  const infinity = /^([+-]?)inf$/i.exec(text);
  if (infinity) return infinity[1] === '-' ? -Infinity : Infinity;
  return Number(text);
}
