import type { Knex } from 'knex';
import { FEATURE_VERSION } from '../../features/catalog';

/** A scored customer for policy tests: only what the policy reads, the rest defaulted. */
export interface ScoredCustomer {
  id: string;
  churn: number;
  clv: string;
  clvLower?: string;
  pAlive?: number;
  segment?: string;
  priceSensitive?: boolean;
  confidence?: 'high' | 'medium' | 'low';
  drivers?: string[];
}

/**
 * Writes customers and one scoring run of their profiles (published where runs are published), as scoring would.
 * clv_lower is written when the schema has it.
 */
export async function insertScoredCustomers(db: Knex, customers: ScoredCustomer[], asOf = new Date('2026-11-01T00:00:00Z')) {
  await db('customers')
    .insert(customers.map((c) => ({ customer_id: c.id })))
    .onConflict('customer_id')
    .ignore();
  const columns = await db('information_schema.columns').where({ table_name: 'scoring_runs' }).pluck('column_name');
  const published = columns.includes('published_at')
    ? { status: 'published', published_at: new Date(), run_key: `test-${asOf.toISOString()}` }
    : {};
  const [run] = await db('scoring_runs')
    .insert({ as_of: asOf, model_versions: JSON.stringify({ churn: 'churn@1', clv: 'clv@1' }), finished_at: new Date(), ...published })
    .returning<{ run_id: string }[]>('run_id');
  const hasLower =
    (await db('information_schema.columns').where({ table_name: 'customer_risk_scores', column_name: 'clv_lower' })).length > 0;
  await db('customer_risk_scores').insert(
    customers.map((c) => ({
      run_id: run!.run_id,
      as_of: asOf,
      customer_id: c.id,
      churn_probability: c.churn,
      churn_horizon_days: 90,
      risk_band: c.churn >= 0.6 ? 'high' : c.churn >= 0.3 ? 'medium' : 'low',
      churn_drivers: JSON.stringify(
        (c.drivers ?? ['No order for 94 days']).map((sentence) => ({ feature: 'x', value: 1, contribution: 0.1, sentence })),
      ),
      clv_expected_net_revenue: c.clv,
      ...(hasLower ? { clv_lower: c.clvLower ?? null } : {}),
      clv_horizon_months: 12,
      p_alive: c.pAlive ?? 0.8,
      segment: c.segment ?? 'At risk',
      price_sensitive: c.priceSensitive ?? false,
      cluster_id: 1,
      confidence: c.confidence ?? 'high',
      model_versions: JSON.stringify({ churn: 'churn@1', clv: 'clv@1' }),
    })),
  );
  return Number(run!.run_id);
}

/**
 * A feature snapshot of two features as of `asOf` for monitoring: days_since_last_order ((i × 7) mod 100 + `shift`)
 * and orders_90d (i mod 5). The feature set must be registered (registerMonitoredFeatures).
 */
export const MONITORED_FEATURES = ['days_since_last_order', 'orders_90d'];

export async function registerMonitoredFeatures(db: Knex): Promise<void> {
  await db('feature_sets').insert({ feature_version: FEATURE_VERSION, feature_names: MONITORED_FEATURES, definition_sha256: 'test' });
}

export async function insertFeatureSnapshot(db: Knex, asOf: Date, customers: ScoredCustomer[], shift = 0): Promise<void> {
  await db('feature_snapshot_headers').insert({
    as_of: asOf,
    feature_version: FEATURE_VERSION,
    population: 'test',
    customer_count: customers.length,
  });
  await db('feature_snapshots').insert(
    customers.map((c, i) => ({
      as_of: asOf,
      feature_version: FEATURE_VERSION,
      customer_id: c.id,
      values: [((i * 7) % 100) + shift, i % 5],
    })),
  );
}

/** A completed export batch of one entity taken at `exportedAt`: outcomes are known up to there. */
export async function insertCompletedExport(db: Knex, entity: string, exportedAt: Date | string): Promise<void> {
  const at = new Date(exportedAt);
  await db('ingest_batches').insert({
    entity,
    file_name: `${entity}-${at.toISOString()}.csv`,
    file_sha256: `${entity}-${at.toISOString()}`,
    exported_at: at,
    status: 'completed',
  });
}
