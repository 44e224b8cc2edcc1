/**
 * Early stopping as XGBoost's Python package does it: watch one metric (the last metric of the last
 * evaluation set), remember the best iteration, and stop after `patience` iterations without a strict
 * improvement.
 */
import type { MetricValue } from './evaluation';

/** Ranking and AUC metrics improve upwards; everything else (logloss, error, rmse, mape, …) downwards. */
const MAXIMISED_METRICS = new Set(['auc', 'aucpr', 'map', 'ndcg']);

export function isMaximisedMetric(metric: string): boolean {
  // "ndcg@5" and "map@10-" are the same metric at a cut-off.
  return MAXIMISED_METRICS.has(metric.split('@')[0]);
}

export interface BestIteration {
  iteration: number;
  score: number;
}

export class EarlyStopping {
  #best: BestIteration | undefined;
  #roundsWithoutImprovement = 0;

  constructor(private readonly patience: number) {}

  get best(): BestIteration | undefined {
    return this.#best;
  }

  /** Records one iteration's watched metric; returns true when training should stop. */
  update(iteration: number, watched: MetricValue): boolean {
    if (this.#best === undefined || improves(watched, this.#best.score)) {
      this.#best = { iteration, score: watched.value };
      this.#roundsWithoutImprovement = 0;
      return false;
    }
    this.#roundsWithoutImprovement += 1;
    return this.#roundsWithoutImprovement >= this.patience;
  }
}

function improves(watched: MetricValue, bestScore: number): boolean {
  return isMaximisedMetric(watched.metric) ? watched.value > bestScore : watched.value < bestScore;
}
