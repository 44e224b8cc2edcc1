/**
 * When a monitoring figure raises an alert (one kind per figure family). Constants rather than configuration: they
 * follow the usual readings of each figure, and changing one changes what "healthy" means for every report, so it
 * goes through review. An alert resolves itself on the first run back under its threshold.
 */
export const THRESHOLDS = {
  /** PSI of any feature above this (0.25 is the usual "large shift"): `feature_drift`. */
  featurePsi: 0.25,
  /** PSI of the churn probabilities against the previous run: `score_drift`. */
  scorePsi: 0.25,
  /** Share of customers (scored in both runs) whose segment changed: `segment_instability`. */
  segmentChangeShare: 0.3,
  /** Share of the snapshot's customers who got a churn probability, below which: `low_coverage`. */
  minCoverage: 0.95,
  /** Share of low-confidence profiles above this: `low_confidence`. */
  lowConfidenceShare: 0.5,
  /** Days between a source's newest event and the run's as-of above this: `stale_data`. */
  sourceAgeDays: 7,
  /** Days between the run's as-of and the newest data (figures.ts runAgeDays) above this: `stale_scores`. */
  runAgeDays: 7,
} as const;

export const ALERT_KINDS = [
  'feature_drift',
  'score_drift',
  'segment_instability',
  'low_coverage',
  'low_confidence',
  'stale_data',
  'stale_scores',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
