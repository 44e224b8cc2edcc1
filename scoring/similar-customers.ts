import type { Knex } from 'knex';
import { NotFoundError } from '../lib/errors';
import { loadProfile } from './profile-document';

export interface SimilarCustomer {
  customerId: string;
  similarity: number;
  segment: string | null;
  riskBand: string | null;
}

/**
 * The k customers whose behaviour embeddings are closest (cosine) to this customer's, among the customers of the
 * same scoring run as the customer's latest profile: embeddings of different runs may come from different models and
 * are not comparable.
 *
 * Computed in SQL on every request rather than loaded once into memory: it always reflects the latest run with no
 * cache to invalidate, and a scan of 16-dimensional vectors is tens of milliseconds for tens of thousands of
 * customers. Much larger shops would want an index (pgvector) instead.
 */
export async function similarCustomers(db: Knex, customerId: string, k: number): Promise<{ asOf: string; similar: SimilarCustomer[] }> {
  const profile = await loadProfile(db, customerId);
  if (!profile.embedding?.length) throw new NotFoundError(`Customer ${customerId} has no behaviour embedding in its latest profile`);
  const result = await db.raw<{ rows: { customer_id: string; similarity: number; segment: string | null; risk_band: string | null }[] }>(
    `with target as (select ?::float8[] as v),
          scored as (
            select s.customer_id, s.segment, s.risk_band,
                   (select sum(a * b) / nullif(sqrt(sum(a * a)) * sqrt(sum(b * b)), 0)
                      from unnest(s.embedding::float8[], t.v) as u(a, b)) as similarity
              from customer_risk_scores s, target t
             where s.as_of = ? and s.customer_id <> ? and cardinality(s.embedding) = cardinality(t.v))
     select customer_id, similarity, segment, risk_band
       from scored where similarity is not null
      order by similarity desc, customer_id
      limit ?`,
    [profile.embedding, profile.as_of.toISOString(), customerId, k],
  );
  return {
    asOf: profile.as_of.toISOString(),
    similar: result.rows.map((r) => ({ customerId: r.customer_id, similarity: r.similarity, segment: r.segment, riskBand: r.risk_band })),
  };
}
