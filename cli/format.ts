import type { IngestSummary } from '../ingestion/ingest-file';

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtSeconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A fixed-width table for one-screen summaries. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function ingestTable(summaries: IngestSummary[]): string {
  return table(
    ['file', 'rows', 'accepted', 'stale', 'rejected', 'duplicates', 'latest event', 'time'],
    summaries.map((s) => [
      s.entity,
      fmtInt(s.rowsTotal),
      fmtInt(s.accepted),
      fmtInt(s.stale),
      fmtInt(s.rejected),
      fmtInt(s.duplicates),
      s.latestEventAt?.slice(0, 10) ?? '-',
      fmtSeconds(s.elapsedMs),
    ]),
  );
}

export function rejectReasons(summaries: IngestSummary[]): string {
  const totals = new Map<string, number>();
  for (const s of summaries)
    for (const [reason, n] of Object.entries(s.rejectsByReason))
      totals.set(`${s.entity}: ${reason}`, (totals.get(`${s.entity}: ${reason}`) ?? 0) + (n ?? 0));
  if (totals.size === 0) return 'No rejected rows.';
  return table(
    ['rejected by reason', 'rows'],
    [...totals].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, fmtInt(n)]),
  );
}
