/**
 * The per-customer feature rows every Foresight model reads. A plain interface on purpose: the feature
 * builder produces it and the models only read it, so neither depends on the other's classes.
 */
export interface FeatureMatrix {
  customerIds: string[];
  featureNames: string[];
  /** Row-major, nrow × ncol; NaN marks a missing value. */
  X: Float32Array;
  nrow: number;
  ncol: number;
}

/** Column names the feature builder publishes; every model takes its columns as parameters with these defaults. */
export const DEFAULT_COLUMNS = {
  recency: 'recency_days',
  frequency: 'orders_365d',
  monetary: 'spend_365d',
  discountShare: 'discount_share',
  tenure: 'tenure_days',
} as const;

/** The behavioural columns clustered and embedded unless a caller names others. */
export const DEFAULT_BEHAVIOUR_COLUMNS: readonly string[] = Object.values(DEFAULT_COLUMNS);

/** Counts and money are heavy-tailed: without log1p a handful of big spenders would dominate distances. */
export const DEFAULT_LOG_COLUMNS: readonly string[] = [DEFAULT_COLUMNS.frequency, DEFAULT_COLUMNS.monetary];
