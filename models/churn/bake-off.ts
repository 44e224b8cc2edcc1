/**
 * The churn bake-off's judgement: every candidate's probabilities on the same pooled out-of-time rows (the
 * customers of several past origins, each scored by candidates trained before it), their metrics with seeded
 * bootstrap 95% intervals, and the rule that picks the one to serve.
 *
 * Primary metric: ROC AUC pooled over the origins. The served candidate is the simplest (CHURN_CANDIDATES order)
 * among those the best candidate does not beat beyond chance, i.e. whose paired bootstrap interval of
 * AUC(best) − AUC(candidate) contains 0, and whose AUC is at least the best baseline's. So a model serves only when it
 * beats the simpler rules clearly, and what serves is never worse than the best baseline on the backtest: a rule
 * tied with the best by a wide interval still does not serve when a better baseline exists.
 *
 * Metrics are computed over row weights (bootstrap multiplicities) in one pass over rows pre-sorted by
 * probability, so 500 resamples of a few hundred thousand rows take seconds, not minutes.
 */
import { bootstrapIntervals, type BootstrapOptions, type Interval, type RowMetric } from '../evaluation/bootstrap';
import { liftAndCapture, reliabilityTable, type ReliabilityBin, type TopFractionResult } from '../evaluation/classification';
import { CANDIDATE_LABELS, CHURN_BASELINES, CHURN_CANDIDATES, type ChurnCandidateName } from './candidates';

export const PRIMARY_METRIC = 'rocAuc';
export const TOP_FRACTION = 0.2;
const ECE_BINS = 10;

export interface CandidatePredictions {
  name: ChurnCandidateName;
  /** Calibrated probabilities on the pooled rows. */
  probabilities: Float64Array;
}

export interface CandidateMetrics {
  name: ChurnCandidateName;
  label: string;
  baseline: boolean;
  rocAuc: Interval;
  expectedCalibrationError: Interval;
  brierScore: Interval;
  /** Share of the churners among the top 20% of customers by probability. */
  captureTop20: Interval;
}

export interface BakeOffResult {
  primaryMetric: typeof PRIMARY_METRIC;
  rows: number;
  baseRate: number;
  candidates: CandidateMetrics[];
  /** The candidate with the highest pooled AUC. */
  best: ChurnCandidateName;
  /** Candidates whose AUC is within the paired interval of the best's (the best included), simplest first. */
  tiedWithBest: ChurnCandidateName[];
  /** The simplest of tiedWithBest whose AUC is at least the best baseline's. */
  served: ChurnCandidateName;
  reason: string;
  bestBaseline: ChurnCandidateName;
  /** AUC(served) − AUC(best baseline), paired bootstrap. */
  marginOverBestBaseline: Interval;
  /** The served candidate's pooled probabilities in 10 equal-width bins. */
  reliability: ReliabilityBin[];
  /** The served candidate's cumulative gains: lift and capture of the top 10%, 20% … 100% by probability. */
  gains: TopFractionResult[];
}

/** The cumulative-gains cuts: every decile of the customers ranked by probability. */
const GAINS_FRACTIONS = Array.from({ length: 10 }, (_, i) => (i + 1) / 10);

/** Metrics of the rows weighted by `weights` (bootstrap multiplicities), with rows pre-sorted by probability. */
class WeightedEvaluator {
  readonly ascending: Uint32Array;

  constructor(
    readonly labels: Uint8Array,
    readonly probabilities: Float64Array,
  ) {
    this.ascending = Uint32Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => probabilities[a] - probabilities[b]);
  }

  rocAuc(weights: Float64Array): number {
    const { ascending, labels, probabilities } = this;
    let negativesBelow = 0;
    let concordant = 0;
    let positives = 0;
    for (let start = 0; start < ascending.length;) {
      let end = start;
      let groupPositives = 0;
      let groupNegatives = 0;
      while (end < ascending.length && probabilities[ascending[end]] === probabilities[ascending[start]]) {
        const row = ascending[end++];
        if (labels[row] === 1) groupPositives += weights[row];
        else groupNegatives += weights[row];
      }
      concordant += groupPositives * (negativesBelow + 0.5 * groupNegatives);
      negativesBelow += groupNegatives;
      positives += groupPositives;
      start = end;
    }
    return positives > 0 && negativesBelow > 0 ? concordant / (positives * negativesBelow) : NaN;
  }

  brierScore(weights: Float64Array): number {
    let total = 0;
    let sum = 0;
    for (let i = 0; i < this.labels.length; i++) {
      const gap = this.probabilities[i] - this.labels[i];
      sum += weights[i] * gap * gap;
      total += weights[i];
    }
    return sum / total;
  }

  expectedCalibrationError(weights: Float64Array): number {
    const predicted = new Float64Array(ECE_BINS);
    const observed = new Float64Array(ECE_BINS);
    let total = 0;
    for (let i = 0; i < this.labels.length; i++) {
      const bin = Math.min(ECE_BINS - 1, Math.floor(this.probabilities[i] * ECE_BINS));
      predicted[bin] += weights[i] * this.probabilities[i];
      observed[bin] += weights[i] * this.labels[i];
      total += weights[i];
    }
    let gap = 0;
    for (let bin = 0; bin < ECE_BINS; bin++) gap += Math.abs(predicted[bin] - observed[bin]);
    return gap / total;
  }

  /** A tie group straddling the cut counts pro rata, as in models/evaluation/classification.ts. */
  captureTop(weights: Float64Array, fraction: number): number {
    const { ascending, labels, probabilities } = this;
    let total = 0;
    let positives = 0;
    for (let i = 0; i < labels.length; i++) {
      total += weights[i];
      positives += weights[i] * labels[i];
    }
    let room = fraction * total;
    let captured = 0;
    for (let end = ascending.length; end > 0 && room > 0;) {
      let start = end;
      let groupWeight = 0;
      let groupPositives = 0;
      while (start > 0 && probabilities[ascending[start - 1]] === probabilities[ascending[end - 1]]) {
        const row = ascending[--start];
        groupWeight += weights[row];
        groupPositives += weights[row] * labels[row];
      }
      const taken = Math.min(groupWeight, room);
      if (groupWeight > 0) captured += groupPositives * (taken / groupWeight);
      room -= taken;
      end = start;
    }
    return positives > 0 ? captured / positives : NaN;
  }
}

interface ResampleStats {
  rocAuc: number;
  expectedCalibrationError: number;
  brierScore: number;
  captureTop20: number;
}

const simplicity = (name: ChurnCandidateName) => CHURN_CANDIDATES.indexOf(name);

export function runBakeOff(
  labels: Uint8Array,
  predictions: readonly CandidatePredictions[],
  options: BootstrapOptions = {},
): BakeOffResult {
  const n = labels.length;
  const evaluators = predictions.map((p) => new WeightedEvaluator(labels, p.probabilities));
  const statsOf = (weights: Float64Array): ResampleStats[] =>
    evaluators.map((evaluator) => ({
      rocAuc: evaluator.rocAuc(weights),
      expectedCalibrationError: evaluator.expectedCalibrationError(weights),
      brierScore: evaluator.brierScore(weights),
      captureTop20: evaluator.captureTop(weights, TOP_FRACTION),
    }));
  const full = statsOf(new Float64Array(n).fill(1));
  const index = (name: ChurnCandidateName) => predictions.findIndex((p) => p.name === name);
  const byAuc = predictions
    .map((p, i) => ({ name: p.name, auc: full[i].rocAuc }))
    .sort((a, b) => b.auc - a.auc || simplicity(a.name) - simplicity(b.name));
  const best = byAuc[0].name;
  const bestBaseline = byAuc.find((c) => CHURN_BASELINES.includes(c.name))!.name;

  // One pass per resample computes every candidate's metrics; bootstrapIntervals evaluates a resample's metrics in
  // order, so the first refreshes them and the others read them. The differences are paired: same resample.
  const weights = new Float64Array(n);
  let stats = full;
  const refresh = (rows: Uint32Array) => {
    weights.fill(0);
    for (let i = 0; i < rows.length; i++) weights[rows[i]] += 1;
    stats = statsOf(weights);
  };
  const metricNames = ['rocAuc', 'expectedCalibrationError', 'brierScore', 'captureTop20'] as const;
  const metrics: RowMetric[] = [];
  predictions.forEach((_, i) => {
    for (const metric of metricNames) metrics.push(() => stats[i][metric]);
    metrics.push(() => stats[index(best)].rocAuc - stats[i].rocAuc);
    metrics.push(() => stats[i].rocAuc - stats[index(bestBaseline)].rocAuc);
  });
  const first = metrics[0];
  metrics[0] = (rows) => {
    refresh(rows);
    return first(rows);
  };
  const intervals = bootstrapIntervals(n, metrics, options);
  const per = 6;
  const candidates: CandidateMetrics[] = predictions.map(({ name }, i) => ({
    name,
    label: CANDIDATE_LABELS[name],
    baseline: CHURN_BASELINES.includes(name),
    rocAuc: intervals[i * per],
    expectedCalibrationError: intervals[i * per + 1],
    brierScore: intervals[i * per + 2],
    captureTop20: intervals[i * per + 3],
  }));
  const behindBest = (i: number) => intervals[i * per + 4];
  const tiedWithBest = predictions
    .filter((p, i) => p.name === best || behindBest(i).lower <= 0)
    .map((p) => p.name)
    .sort((a, b) => simplicity(a) - simplicity(b));
  // The best baseline and the best always qualify, so there is one.
  const floor = full[index(bestBaseline)].rocAuc;
  const served = tiedWithBest.find((name) => full[index(name)].rocAuc >= floor)!;
  const marginOverBestBaseline = intervals[index(served) * per + 5];
  const auc = (name: ChurnCandidateName) => full[index(name)].rocAuc.toFixed(4);
  const passedOver = tiedWithBest.slice(0, tiedWithBest.indexOf(served));
  const reason =
    (served === best
      ? `${CANDIDATE_LABELS[served]} has the highest pooled AUC (${auc(served)})` +
        (tiedWithBest.length > 1 ? ' and is the simplest of the candidates within its interval' : '')
      : `${CANDIDATE_LABELS[served]} (AUC ${auc(served)}) is the simplest candidate the best, ${CANDIDATE_LABELS[best]} ` +
        `(AUC ${auc(best)}), does not beat beyond its paired 95% interval`) +
    (passedOver.length > 0
      ? ` (${passedOver.map((name) => `${CANDIDATE_LABELS[name]}, AUC ${auc(name)}`).join('; ')}: simpler and within the ` +
        `interval, but below the best baseline, ${CANDIDATE_LABELS[bestBaseline]})`
      : '');
  return {
    primaryMetric: PRIMARY_METRIC,
    rows: n,
    baseRate: labels.reduce((sum, y) => sum + y, 0) / n,
    candidates,
    best,
    tiedWithBest,
    served,
    reason,
    bestBaseline,
    marginOverBestBaseline,
    reliability: reliabilityTable(labels, predictions[index(served)].probabilities),
    gains: liftAndCapture(labels, predictions[index(served)].probabilities, GAINS_FRACTIONS),
  };
}
