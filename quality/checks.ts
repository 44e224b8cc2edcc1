import { MS_PER_DAY } from '../lib/horizons';
import type { CheckName, QualityRules } from './rules';

/** What the gate measures of one source (an ingested entity) from its batches. */
export interface SourceStats {
  source: string;
  /** Newest event time over the source's batches; null for sources without one (identities, order items). */
  latestEventAt: Date | null;
  newestBatch: {
    batchId: number;
    rowsTotal: number;
    rowsAccepted: number;
    rowsRejected: number;
    missingRejects: number;
    identityConflicts: number;
  };
  /** Accepted rows of each earlier batch of the source. */
  earlierAccepted: number[];
}

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  source: string;
  check: CheckName;
  value: number | null;
  threshold: number | null;
  action: 'fail' | 'warn';
  status: CheckStatus;
  detail: string;
}

const percent = (v: number) => `${(100 * v).toFixed(2)}%`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Every check of one source against the rules: a breach takes the check's action as its status. */
export function evaluateSource(stats: SourceStats, rules: QualityRules, asOf: Date): CheckResult[] {
  const results: CheckResult[] = [];
  const judge = (check: CheckName, value: number | null, threshold: number | null, breached: boolean, detail: string) =>
    results.push({
      source: stats.source,
      check,
      value,
      threshold,
      action: rules[check].action,
      status: breached ? rules[check].action : 'pass',
      detail,
    });
  const batch = stats.newestBatch;

  if (stats.latestEventAt) {
    const ageDays = (asOf.getTime() - stats.latestEventAt.getTime()) / MS_PER_DAY;
    judge(
      'freshness',
      ageDays,
      rules.freshness.maxDays,
      ageDays > rules.freshness.maxDays,
      `newest event ${stats.latestEventAt.toISOString()}, ${ageDays.toFixed(1)} days before the as-of (at most ${rules.freshness.maxDays})`,
    );
  } else judge('freshness', null, rules.freshness.maxDays, false, 'the source has no event time');

  if (stats.earlierAccepted.length === 0) judge('volume', null, null, false, 'first batch of the source: nothing to compare with');
  else {
    const typical = median(stats.earlierAccepted);
    const ratio = typical > 0 ? batch.rowsAccepted / typical : batch.rowsAccepted > 0 ? Infinity : 1;
    const { minRatio, maxRatio } = rules.volume;
    judge(
      'volume',
      ratio,
      ratio < minRatio ? minRatio : maxRatio,
      ratio < minRatio || ratio > maxRatio,
      `newest batch ${batch.rowsAccepted} rows against a median of ${typical} over ${stats.earlierAccepted.length} earlier batches (ratio ${ratio.toFixed(2)}, allowed ${minRatio}–${maxRatio})`,
    );
  }

  const share = (n: number) => (batch.rowsTotal > 0 ? n / batch.rowsTotal : 0);
  const rejectRate = share(batch.rowsRejected);
  judge(
    'rejectRate',
    rejectRate,
    rules.rejectRate.max,
    rejectRate > rules.rejectRate.max,
    `${batch.rowsRejected} of ${batch.rowsTotal} rows rejected (${percent(rejectRate)}, at most ${percent(rules.rejectRate.max)})`,
  );
  const missing = share(batch.missingRejects);
  judge(
    'completeness',
    missing,
    rules.completeness.maxMissing,
    missing > rules.completeness.maxMissing,
    `${batch.missingRejects} rows lack a required field (${percent(missing)}, at most ${percent(rules.completeness.maxMissing)})`,
  );
  const conflicts = share(batch.identityConflicts);
  judge(
    'identityConflicts',
    conflicts,
    rules.identityConflicts.max,
    conflicts > rules.identityConflicts.max,
    `${batch.identityConflicts} rows map an identifier already taken by another customer (${percent(conflicts)}, at most ${percent(rules.identityConflicts.max)})`,
  );
  return results;
}

/** The gate's verdict: fail if any check failed, warn if any warned, else pass. */
export function gateStatus(results: readonly CheckResult[]): CheckStatus {
  if (results.some((r) => r.status === 'fail')) return 'fail';
  return results.some((r) => r.status === 'warn') ? 'warn' : 'pass';
}
