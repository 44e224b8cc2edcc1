/**
 * Rule-based churn scores the model has to beat, computed from the same feature matrix. They are what a shop
 * without a model does: chase the customers who have not bought for longest, or those in the worst RFM cells.
 * Scores rank customers (higher = more likely to churn) and are not probabilities; the backtest maps them to
 * probabilities by isotonic calibration before comparing Brier scores and calibration errors.
 */
import { RfmModel, type RfmModelJson } from '../segments/rfm';
import { columnValues } from '../segments/feature-matrix';
import type { FeatureMatrix } from '../segments/types';

const RECENCY_COLUMN = 'recency_days';

export interface ChurnBaseline {
  /** Column heading in the backtest report. */
  readonly name: string;
  /** Learns what the rule needs from a matrix of earlier customers; a rule with nothing to learn ignores it. */
  fit(matrix: FeatureMatrix): this;
  /** One score per row; higher means more likely to churn. */
  score(matrix: FeatureMatrix): Float64Array;
}

/**
 * Days since the last completed order. A customer without one (outside the purchaser population) gets the
 * largest finite score: never having bought is as lapsed as it gets, and the metrics need finite scores.
 */
export class RecencyBaseline implements ChurnBaseline {
  readonly name = 'Days since last order';

  fit(): this {
    return this;
  }

  score(matrix: FeatureMatrix): Float64Array {
    return Float64Array.from(columnValues(matrix, RECENCY_COLUMN), (days) => (Number.isNaN(days) ? Number.MAX_VALUE : days));
  }
}

/** 1 when the last completed order is more than `thresholdDays` old (or there is none), else 0. */
export class RecencyRuleBaseline implements ChurnBaseline {
  readonly name: string;

  constructor(readonly thresholdDays: number) {
    this.name = `No order for over ${thresholdDays} days`;
  }

  fit(): this {
    return this;
  }

  score(matrix: FeatureMatrix): Float64Array {
    return Float64Array.from(columnValues(matrix, RECENCY_COLUMN), (days) => (Number.isNaN(days) || days > this.thresholdDays ? 1 : 0));
  }
}

/**
 * The RFM heuristic: risk = (6 − R) + (6 − F) + (6 − M) / 10, with R, F and M the 1–5 quintile scores of
 * models/segments/rfm.ts (recency_days reversed, orders_365d, spend_365d; cuts learned in fit). Low recency
 * and low frequency scores add up to high risk; the monetary score only breaks ties between equal R + F,
 * since money says little about whether a customer will come back.
 */
export class RfmHeuristicBaseline implements ChurnBaseline {
  readonly name = 'RFM heuristic';
  #rfm = new RfmModel();

  fit(matrix: FeatureMatrix): this {
    this.#rfm.fit(matrix);
    return this;
  }

  score(matrix: FeatureMatrix): Float64Array {
    return Float64Array.from(this.#rfm.predict(matrix), ({ r, f, m }) => 6 - r + (6 - f) + (6 - m) / 10);
  }

  /** The learned quintile cuts, for serving the heuristic. */
  toJSON(): RfmModelJson {
    return this.#rfm.toJSON();
  }

  static fromJSON(json: unknown): RfmHeuristicBaseline {
    const baseline = new RfmHeuristicBaseline();
    baseline.#rfm = RfmModel.fromJSON(json);
    return baseline;
  }
}

/** The baselines of a churn backtest: recency as a score, recency against the horizon as a rule, and RFM. */
export function churnBaselines(horizonDays: number): ChurnBaseline[] {
  return [new RecencyBaseline(), new RecencyRuleBaseline(horizonDays), new RfmHeuristicBaseline()];
}
