/** The comparison of a candidate model with the champion of its kind: plain data for JSON, and its Markdown. */

export interface MetricDelta {
  metric: string;
  champion: number;
  candidate: number;
  /** candidate − champion. */
  delta: number;
  better: 'higher' | 'lower' | 'closerToOne';
}

export interface ShadowReport {
  candidate: { modelId: number; kind: string; version: number; trainingTo: string | null };
  champion: { modelId: number; version: number; trainingTo: string | null };
  /** The snapshot both were scored on. */
  asOf: string;
  customers: number;
  /**
   * Metrics on the latest cutoff whose outcome window has passed by asOf (cutoff = asOf − horizon), beside each other.
   * Null for segments (no outcome to compare with) or when the data does not reach back one horizon.
   */
  backtest: { cutoff: string; horizonDays: number; customers: number; metrics: MetricDelta[] } | null;
  backtestSkipped: string | null;
  /** Candidate against champion on the same customers. */
  shift: {
    /** Population stability index of the candidate's scores (or segment shares) against the champion's. */
    psi: number;
    /** Spearman correlation between the two models' scores; null for segments. */
    rankAgreement: number | null;
    /** Customers whose risk band (churn) or segment (segments) changes; null for CLV. */
    labelChanges: number | null;
    /** Share of the champion's top 10% (highest risk, or highest value) also in the candidate's; null for segments. */
    topDecileOverlap: number | null;
  };
}

const fmt = (v: number | null, digits = 4) => (v === null ? '-' : v.toFixed(digits));

export function shadowReportToMarkdown(r: ShadowReport): string {
  const lines = [
    `# Shadow evaluation: ${r.candidate.kind} v${r.candidate.version} (model ${r.candidate.modelId}) against champion v${r.champion.version} (model ${r.champion.modelId})`,
    '',
    `Both scored on the snapshot as of ${r.asOf} (${r.customers} customers). Candidate trained to ${r.candidate.trainingTo ?? '-'}, champion to ${r.champion.trainingTo ?? '-'}.`,
    '',
    '## Backtest with known outcomes',
    '',
  ];
  if (r.backtest) {
    lines.push(
      `Cutoff ${r.backtest.cutoff}, outcomes over the next ${r.backtest.horizonDays} days, ${r.backtest.customers} customers. ` +
        'A model trained after the cutoff has seen part of these outcomes: read the deltas as a comparison, not as an out-of-sample score.',
      '',
      '| metric | champion | candidate | delta | better |',
      '|---|---:|---:|---:|---|',
      ...r.backtest.metrics.map((m) => `| ${m.metric} | ${fmt(m.champion)} | ${fmt(m.candidate)} | ${fmt(m.delta)} | ${m.better} |`),
    );
  } else lines.push(`No backtest: ${r.backtestSkipped ?? 'none possible'}.`);
  lines.push(
    '',
    '## Candidate against champion, same customers',
    '',
    '| measure | value |',
    '|---|---:|',
    `| score distribution shift (PSI) | ${fmt(r.shift.psi)} |`,
    `| rank agreement (Spearman) | ${fmt(r.shift.rankAgreement)} |`,
    `| customers changing ${r.candidate.kind === 'segments' ? 'segment' : 'risk band'} | ${r.shift.labelChanges ?? '-'} |`,
    `| overlap of the top 10% ${r.candidate.kind === 'clv' ? 'by value' : 'by risk'} | ${fmt(r.shift.topDecileOverlap, 3)} |`,
    '',
  );
  return lines.join('\n');
}
