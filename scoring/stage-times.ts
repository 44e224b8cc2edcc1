/**
 * Wall-clock milliseconds per stage of scoring, summed over the partitions a caller asks about: what the benchmark
 * (bench/scoring.ts) prints, so that a slow stage shows itself.
 */
export type ScoringStage = 'load features' | 'churn' | 'drivers' | 'clv' | 'segments' | 'documents' | 'copy';

export type StageTimes = Partial<Record<ScoringStage, number>>;

/** Runs `work`, adding its wall time to `stage` of `times` when there is one. */
export function timed<T>(times: StageTimes | undefined, stage: ScoringStage, work: () => T): T {
  if (!times) return work();
  const started = performance.now();
  try {
    return work();
  } finally {
    times[stage] = (times[stage] ?? 0) + performance.now() - started;
  }
}

/** Adds `from` into `into`, stage by stage. */
export function addStageTimes(into: StageTimes, from: StageTimes): void {
  for (const [stage, ms] of Object.entries(from) as [ScoringStage, number][]) into[stage] = (into[stage] ?? 0) + ms;
}
