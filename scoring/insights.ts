import type { Knex } from 'knex';
import { FEATURE_CATALOG, FEATURE_VERSION } from '../features/catalog';

/** How many behaviours each list keeps: the overall lists, each segment's, and the ones followed over runs. */
const OVERALL = 8;
const PER_SEGMENT = 5;
const FOLLOWED = 5;

export interface ChurnDriverShare {
  feature: string;
  description: string;
  /** Customers whose top drivers include the feature pushing toward churn. */
  customers: number;
  /** Their share of the group's scored customers. */
  share: number;
  /** Their mean SHAP contribution (log-odds toward churn). */
  meanContribution: number;
}

export interface ClvAssociation {
  feature: string;
  description: string;
  /** Pearson correlation of the feature's value with expected net CLV over the group; null when it cannot be computed. */
  correlation: number | null;
  /** Customers with a value of the feature. */
  customers: number;
}

export interface SegmentInsight<T> {
  segment: string | null;
  customers: number;
  items: T[];
}

export interface Insights {
  /** The published runs read, oldest first (one per as-of: the latest published for it). */
  runs: { runId: number; asOf: string; customers: number }[];
  churn: { overall: ChurnDriverShare[]; segments: SegmentInsight<ChurnDriverShare>[] };
  /** Empty when the latest run's feature snapshot (the values the models read) is not kept. */
  clv: { overall: ClvAssociation[]; segments: SegmentInsight<ClvAssociation>[] };
  /** How the followed behaviours moved over the runs, aligned with `runs` (null: not computable for that run). */
  trend: {
    churn: { feature: string; description: string; shares: number[] }[];
    clv: { feature: string; description: string; correlations: (number | null)[] }[];
  };
}

const describe = (feature: string) => FEATURE_CATALOG.find((f) => f.name === feature)?.description ?? feature;
const byShare = (a: ChurnDriverShare, b: ChurnDriverShare) => b.share - a.share || a.feature.localeCompare(b.feature);
const byStrength = (a: ClvAssociation, b: ClvAssociation) =>
  Math.abs(b.correlation ?? 0) - Math.abs(a.correlation ?? 0) || a.feature.localeCompare(b.feature);

interface RunRow {
  run_id: string;
  as_of: Date;
  customers: number;
}

/**
 * What the stored scores say about behaviour, overall and per segment, computed in SQL from the published runs:
 * for churn, how often each behaviour is among a customer's top SHAP drivers pushing toward churn, and its mean
 * contribution; for CLV (whose model stores no drivers), each behaviour's correlation with expected net CLV over the
 * run's feature snapshot. Associations within the scored population: directional, not causal.
 */
export async function scoringInsights(db: Knex, options: { runs: number }): Promise<Insights> {
  const runs = (
    await db.raw<{ rows: RunRow[] }>(
      `select r.run_id, r.as_of, (select count(*)::int from customer_risk_scores s where s.run_id = r.run_id) as customers
         from (select distinct on (as_of) run_id, as_of from scoring_runs
                where published_at is not null order by as_of desc, published_at desc) r
        order by r.as_of desc limit :n`,
      { n: options.runs },
    )
  ).rows.reverse();
  const empty: Insights = {
    runs: [],
    churn: { overall: [], segments: [] },
    clv: { overall: [], segments: [] },
    trend: { churn: [], clv: [] },
  };
  if (runs.length === 0) return empty;
  const runIds = runs.map((r) => r.run_id);
  const latest = runs[runs.length - 1]!;

  // Per run, per segment (and over all segments: segment_total), the customers with each churn-raising driver.
  const drivers = (
    await db.raw<{
      rows: { run_id: string; all_segments: boolean; segment: string | null; feature: string; n: number; mean: number }[];
    }>(
      `select s.run_id, grouping(s.segment) = 1 as all_segments, s.segment, d->>'feature' as feature,
              count(distinct s.customer_id)::int as n, avg((d->>'contribution')::float8) as mean
         from customer_risk_scores s cross join lateral json_array_elements(s.churn_drivers) d
        where s.run_id = any(:runIds::bigint[]) and (d->>'contribution')::float8 > 0
        group by grouping sets ((s.run_id, d->>'feature'), (s.run_id, s.segment, d->>'feature'))`,
      { runIds },
    )
  ).rows;
  const sizes = (
    await db.raw<{ rows: { segment: string | null; n: number }[] }>(
      'select segment, count(*)::int as n from customer_risk_scores where run_id = :runId group by segment order by count(*) desc, segment',
      { runId: latest.run_id },
    )
  ).rows;
  const share = (r: (typeof drivers)[number], of: number): ChurnDriverShare => ({
    feature: r.feature,
    description: describe(r.feature),
    customers: r.n,
    share: of === 0 ? 0 : r.n / of,
    meanContribution: r.mean,
  });
  const latestDrivers = drivers.filter((r) => r.run_id === latest.run_id);
  const overall = latestDrivers
    .filter((r) => r.all_segments)
    .map((r) => share(r, latest.customers))
    .sort(byShare);
  const churnSegments = sizes.map((g) => ({
    segment: g.segment,
    customers: g.n,
    items: latestDrivers
      .filter((r) => !r.all_segments && r.segment === g.segment)
      .map((r) => share(r, g.n))
      .sort(byShare)
      .slice(0, PER_SEGMENT),
  }));
  const followedChurn = overall.slice(0, FOLLOWED).map((f) => ({
    feature: f.feature,
    description: f.description,
    shares: runs.map((run) => {
      const row = drivers.find((r) => r.run_id === run.run_id && r.all_segments && r.feature === f.feature);
      return row && run.customers > 0 ? row.n / run.customers : 0;
    }),
  }));

  const names = (await db('feature_sets').where({ feature_version: FEATURE_VERSION }).first<{ feature_names: string[] } | undefined>())
    ?.feature_names;
  const clv = names ? await clvAssociations(db, latest.run_id, names) : null;
  const followedClv = clv ? clv.overall.slice(0, FOLLOWED) : [];
  const clvTrend =
    followedClv.length > 0
      ? await clvCorrelationsOverRuns(
          db,
          runIds,
          names!,
          followedClv.map((f) => f.feature),
        )
      : [];

  return {
    runs: runs.map((r) => ({ runId: Number(r.run_id), asOf: r.as_of.toISOString(), customers: r.customers })),
    churn: { overall: overall.slice(0, OVERALL), segments: churnSegments },
    clv: clv ? { overall: clv.overall.slice(0, OVERALL), segments: clv.segments } : empty.clv,
    trend: {
      churn: followedChurn,
      clv: followedClv.map((f, i) => ({
        feature: f.feature,
        description: f.description,
        correlations: runIds.map((id) => clvTrend.find((r) => r.run_id === id)?.[`c${i}`] ?? null),
      })),
    },
  };
}

/** corr(values[i], CLV) for every feature, by segment and over all, in one pass over the run and its snapshot. */
async function clvAssociations(
  db: Knex,
  runId: string,
  names: string[],
): Promise<{ overall: ClvAssociation[]; segments: SegmentInsight<ClvAssociation>[] } | null> {
  // Indices are whole numbers from the feature set's length, never input: safe to write into the statement.
  const columns = names
    .map((_, i) => `corr(fs.values[${i + 1}], s.clv_expected_net_revenue::float8) as c${i}, count(fs.values[${i + 1}])::int as n${i}`)
    .join(', ');
  const rows = (
    await db.raw<{ rows: Record<string, unknown>[] }>(
      `select grouping(s.segment) = 1 as all_segments, s.segment, count(*)::int as customers, ${columns}
         from customer_risk_scores s
         join feature_snapshots fs on fs.as_of = s.as_of and fs.feature_version = :version and fs.customer_id = s.customer_id
        where s.run_id = :runId and s.clv_expected_net_revenue is not null
        group by grouping sets ((s.segment), ())
        order by count(*) desc, s.segment`,
      { runId, version: FEATURE_VERSION },
    )
  ).rows;
  if (rows.length === 0) return null;
  const associations = (row: Record<string, unknown>) =>
    names.map((feature, i) => ({
      feature,
      description: describe(feature),
      correlation: row[`c${i}`] === null ? null : Number(row[`c${i}`]),
      customers: row[`n${i}`] as number,
    }));
  const overallRow = rows.find((r) => r.all_segments === true)!;
  return {
    overall: associations(overallRow).sort(byStrength),
    segments: rows
      .filter((r) => r.all_segments !== true)
      .map((r) => ({
        segment: r.segment as string | null,
        customers: r.customers as number,
        items: associations(r).sort(byStrength).slice(0, PER_SEGMENT),
      })),
  };
}

async function clvCorrelationsOverRuns(
  db: Knex,
  runIds: string[],
  names: string[],
  features: string[],
): Promise<(Record<string, number | null> & { run_id: string })[]> {
  const columns = features
    .map((f, i) => `corr(fs.values[${names.indexOf(f) + 1}], s.clv_expected_net_revenue::float8) as c${i}`)
    .join(', ');
  return (
    await db.raw<{ rows: (Record<string, number | null> & { run_id: string })[] }>(
      `select s.run_id, ${columns}
         from customer_risk_scores s
         join feature_snapshots fs on fs.as_of = s.as_of and fs.feature_version = :version and fs.customer_id = s.customer_id
        where s.run_id = any(:runIds::bigint[]) and s.clv_expected_net_revenue is not null
        group by s.run_id`,
      { runIds, version: FEATURE_VERSION },
    )
  ).rows;
}
