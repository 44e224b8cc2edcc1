import type { FeatureMatrix } from '../features/types';
import { psiAgainst, psiBins, type PsiBins } from '../models/evaluation/psi';
import { segmentMigrationOfPairs, type SegmentMigration, type SegmentPair } from '../models/segments/migration';
import { RFM_SEGMENTS } from '../models/segments/rfm-segments';
import { THRESHOLDS, type AlertKind } from './thresholds';

const DAY_MS = 86_400_000;

/** One run as monitoring reads it: its feature snapshot and, per customer, the score, segment and confidence. */
export interface RunData {
  runId: number;
  asOf: Date;
  /** Null when the run's snapshot is gone (a snapshot is replaced as a whole, never partly). */
  matrix: FeatureMatrix | null;
  churn: Float64Array;
  /** The churn model that gave `churn` (registry id), or null when unknown. */
  churnModelId: number | null;
  confidence: Map<string, number>;
  /** Customers with a profile in the run (churn holds only those with a probability). */
  profiles: number;
}

export interface MonitoringFigures {
  runId: number;
  asOf: string;
  referenceRunId: number | null;
  /** PSI of each feature against the reference run's snapshot; null where either side has no value. */
  featurePsi: Record<string, number | null>;
  worstFeature: { feature: string; psi: number } | null;
  /**
   * PSI of the churn probabilities against the reference run's, when the same churn model scored both; null after a
   * promotion (a new model's scores differ by design: the shadow report measured that shift before a person promoted
   * it, so it is not drift).
   */
  scorePsi: number | null;
  /** Share of customers profiled in both runs whose segment changed, and where they went. */
  segmentChangeShare: number | null;
  segmentMigration: SegmentMigration | null;
  /** Customers with a churn probability over the snapshot's customers. */
  coverage: number | null;
  /** Share of profiles by confidence (high, medium, low). */
  confidenceMix: Record<string, number>;
  /** Per source: its newest event and how many days before the run's as-of. */
  sourceFreshness: Record<string, { latestEventAt: string | null; ageDays: number | null }>;
  /**
   * The run's age: days from its as-of to the newest data known (the latest completed export), so scores left behind
   * by newer data are stale. Against the data's clock rather than the wall clock: monitoring runs right after scoring,
   * where the wall clock would only flag a shop whose whole history is old (a demo, a backfill) and never a pipeline
   * that stopped (no run, no monitoring). Without any ingested data, against the time monitoring ran.
   */
  runAgeDays: number;
}

export interface Breach {
  kind: AlertKind;
  message: string;
  detail: Record<string, unknown>;
}

/**
 * The finite values of `values`, in order. A plain loop into one buffer: TypedArray.filter calls back per value and
 * builds an intermediate list, which was most of monitoring's time (and garbage) at a million customers.
 */
function finite(values: ArrayLike<number>, stride = 1, offset = 0): Float64Array {
  const length = Math.ceil((values.length - offset) / stride);
  const out = new Float64Array(Math.max(length, 0));
  let n = 0;
  for (let i = offset; i < values.length; i += stride) {
    const v = values[i]!;
    if (Number.isFinite(v)) out[n++] = v;
  }
  return out.subarray(0, n);
}

/** Feature j's finite values (the matrix is row-major). */
const column = (matrix: FeatureMatrix, j: number): Float64Array => finite(matrix.X, matrix.ncol, j);

/**
 * What a run keeps with its report for the next run to compare with (monitoring_reports.bins): its own distributions as
 * PSI bins, so the next run's monitoring need not reload this run's snapshot and scores.
 */
export interface RunBins {
  /** Per feature of the run's snapshot; null where the feature has no value. Empty when the snapshot is gone. */
  features: Record<string, PsiBins | null>;
  churn: PsiBins | null;
}

export function runBins(run: RunData): RunBins {
  const features: Record<string, PsiBins | null> = {};
  run.matrix?.featureNames.forEach((name, j) => {
    const values = column(run.matrix!, j);
    features[name] = values.length === 0 ? null : psiBins(values);
  });
  const churn = finite(run.churn);
  return { features, churn: churn.length === 0 ? null : psiBins(churn) };
}

/** The previous published run as a run is compared with it. */
export interface RunReference {
  runId: number;
  /** The churn model that scored it, or null when unknown. */
  churnModelId: number | null;
  bins: RunBins;
  /** Its customers' segments against the current run's, counted (null: absent from that run). */
  segmentPairs: SegmentPair[];
}

function featurePsi(current: FeatureMatrix | null, reference: RunBins | null): Record<string, number | null> {
  if (!current) return {};
  const out: Record<string, number | null> = {};
  current.featureNames.forEach((name, j) => {
    const bins = reference?.features[name] ?? null;
    if (!bins) return void (out[name] = null);
    const actual = column(current, j);
    out[name] = actual.length === 0 ? null : psiAgainst(bins, actual);
  });
  return out;
}

/** Share of the customers segmented in both runs whose segment changed. */
function changedShare(pairs: readonly SegmentPair[]): number | null {
  let both = 0;
  let changed = 0;
  for (const pair of pairs) {
    if (pair.before === null || pair.after === null) continue;
    both += pair.customers;
    if (pair.before !== pair.after) changed += pair.customers;
  }
  return both === 0 ? null : changed / both;
}

/**
 * The figures of one run against its reference (the previous published run: drift between consecutive runs, so a
 * step change alerts once, on the run it happens in; the champion's training data is itself a past snapshot, and the
 * previous run is the one the policy last acted on). Pure: the caller loads the data.
 */
export function monitoringFigures(input: {
  current: RunData;
  reference: RunReference | null;
  snapshotCustomers: number;
  sources: { source: string; latestEventAt: Date | null }[];
  /** The newest completed export (ingest_batches.exported_at), or null before any. */
  newestDataAt: Date | null;
  now: Date;
}): MonitoringFigures {
  const { current, reference } = input;
  const byFeature = featurePsi(current.matrix, reference?.bins ?? null);
  const worst = Object.entries(byFeature)
    .filter((e): e is [string, number] => e[1] !== null)
    .sort((a, b) => b[1] - a[1])[0];
  const scores = finite(current.churn);
  const referenceScores = reference?.bins.churn ?? null;
  const confidenceTotal = [...current.confidence.values()].reduce((a, b) => a + b, 0);
  return {
    runId: current.runId,
    asOf: current.asOf.toISOString(),
    referenceRunId: reference?.runId ?? null,
    featurePsi: byFeature,
    worstFeature: worst ? { feature: worst[0], psi: worst[1] } : null,
    scorePsi:
      scores.length > 0 && referenceScores && reference?.churnModelId === current.churnModelId ? psiAgainst(referenceScores, scores) : null,
    segmentChangeShare: reference ? changedShare(reference.segmentPairs) : null,
    segmentMigration: reference ? segmentMigrationOfPairs(reference.segmentPairs, RFM_SEGMENTS) : null,
    coverage: input.snapshotCustomers > 0 ? scores.length / input.snapshotCustomers : null,
    confidenceMix: Object.fromEntries([...current.confidence].map(([level, n]) => [level, confidenceTotal ? n / confidenceTotal : 0])),
    sourceFreshness: Object.fromEntries(
      input.sources.map((s) => [
        s.source,
        {
          latestEventAt: s.latestEventAt?.toISOString() ?? null,
          ageDays: s.latestEventAt ? (current.asOf.getTime() - s.latestEventAt.getTime()) / DAY_MS : null,
        },
      ]),
    ),
    runAgeDays: ((input.newestDataAt ?? input.now).getTime() - current.asOf.getTime()) / DAY_MS,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** The thresholds (thresholds.ts) the figures break, one breach per alert kind. */
export function breaches(f: MonitoringFigures): Breach[] {
  const out: Breach[] = [];
  const drifted = Object.entries(f.featurePsi).filter((e): e is [string, number] => e[1] !== null && e[1] > THRESHOLDS.featurePsi);
  if (drifted.length > 0)
    out.push({
      kind: 'feature_drift',
      message: `${drifted.length} feature(s) shifted (PSI > ${THRESHOLDS.featurePsi}): ${drifted.map(([n, v]) => `${n} ${round(v)}`).join(', ')}`,
      detail: { features: Object.fromEntries(drifted), threshold: THRESHOLDS.featurePsi },
    });
  if (f.scorePsi !== null && f.scorePsi > THRESHOLDS.scorePsi)
    out.push({
      kind: 'score_drift',
      message: `Churn scores shifted against the previous run: PSI ${round(f.scorePsi)} > ${THRESHOLDS.scorePsi}`,
      detail: { psi: f.scorePsi, threshold: THRESHOLDS.scorePsi },
    });
  if (f.segmentChangeShare !== null && f.segmentChangeShare > THRESHOLDS.segmentChangeShare)
    out.push({
      kind: 'segment_instability',
      message: `${round(f.segmentChangeShare * 100)}% of customers changed segment (threshold ${THRESHOLDS.segmentChangeShare * 100}%)`,
      detail: { share: f.segmentChangeShare, threshold: THRESHOLDS.segmentChangeShare },
    });
  if (f.coverage !== null && f.coverage < THRESHOLDS.minCoverage)
    out.push({
      kind: 'low_coverage',
      message: `Only ${round(f.coverage * 100)}% of the snapshot's customers were scored (minimum ${THRESHOLDS.minCoverage * 100}%)`,
      detail: { coverage: f.coverage, threshold: THRESHOLDS.minCoverage },
    });
  const low = f.confidenceMix.low ?? 0;
  if (low > THRESHOLDS.lowConfidenceShare)
    out.push({
      kind: 'low_confidence',
      message: `${round(low * 100)}% of profiles have low confidence (threshold ${THRESHOLDS.lowConfidenceShare * 100}%)`,
      detail: { share: low, threshold: THRESHOLDS.lowConfidenceShare },
    });
  const stale = Object.entries(f.sourceFreshness).filter(([, s]) => s.ageDays !== null && s.ageDays > THRESHOLDS.sourceAgeDays);
  if (stale.length > 0)
    out.push({
      kind: 'stale_data',
      message: `No new data for more than ${THRESHOLDS.sourceAgeDays} days before the run: ${stale.map(([s, v]) => `${s} ${round(v.ageDays!)} days`).join(', ')}`,
      detail: { sources: Object.fromEntries(stale), threshold: THRESHOLDS.sourceAgeDays },
    });
  if (f.runAgeDays > THRESHOLDS.runAgeDays)
    out.push({
      kind: 'stale_scores',
      message: `The scores are ${round(f.runAgeDays)} days older than the newest data (threshold ${THRESHOLDS.runAgeDays})`,
      detail: { ageDays: f.runAgeDays, threshold: THRESHOLDS.runAgeDays },
    });
  return out;
}
