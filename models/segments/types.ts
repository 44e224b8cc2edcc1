/** The per-customer feature rows every model reads: defined once, beside the feature builder that produces them. */
export type { FeatureMatrix } from '../../features/types';

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
