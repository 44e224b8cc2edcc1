import type { Knex } from 'knex';
import { NotFoundError } from '../lib/errors';
import { EmbeddingIndex, type Neighbour } from './embedding-index';
import { loadProfile } from './profile-document';

export type SimilarCustomer = Neighbour;

export interface SimilarCustomers {
  /**
   * The k customers whose behaviour embeddings are closest (cosine) to this customer's, among the customers of the
   * same scoring run as the customer's latest profile: embeddings of different runs may come from different models
   * and are not comparable.
   */
  find(customerId: string, k: number): Promise<{ asOf: string; similar: SimilarCustomer[] }>;
}

/** Runs whose index stays in memory: the newest, and the one before while readers move over to the newest. */
const RUNS_KEPT = 2;
/** Rows per FETCH while loading a run. */
const LOAD_BATCH = 10_000;
/**
 * Loading a run is one bulk read (sorting a million rows takes seconds), done once per run; it gets a longer
 * statement timeout than the API's per-request one, which still bounds every other statement.
 */
const LOAD_STATEMENT_TIMEOUT = '120s';

interface LatestEmbedding {
  run_id: string;
  as_of: Date;
  embedding: number[] | null;
}

async function latestEmbedding(db: Knex, customerId: string): Promise<LatestEmbedding | undefined> {
  return (await db('customer_profiles_latest').where({ customer_id: customerId }).first('run_id', 'as_of', 'embedding')) as
    LatestEmbedding | undefined;
}

interface EmbeddingRow {
  customer_id: string;
  embedding: number[] | null;
  segment: string | null;
  risk_band: string | null;
}

async function loadRun(db: Knex, runId: number): Promise<EmbeddingIndex> {
  const index = new EmbeddingIndex();
  await db.transaction(async (trx) => {
    await trx.raw(`set local statement_timeout = '${LOAD_STATEMENT_TIMEOUT}'`);
    // Ordered by customer_id in the database's collation: the index breaks ties in that order, as the SQL did.
    await trx.raw(
      `declare run_embeddings no scroll cursor for
       select customer_id, embedding, segment, risk_band from customer_risk_scores where run_id = ${runId} order by customer_id`,
    );
    for (;;) {
      const { rows } = await trx.raw<{ rows: EmbeddingRow[] }>(`fetch ${LOAD_BATCH} from run_embeddings`);
      for (const r of rows) index.add({ customerId: r.customer_id, embedding: r.embedding, segment: r.segment, riskBand: r.risk_band });
      if (rows.length < LOAD_BATCH) break;
    }
  });
  return index;
}

/**
 * Similar customers from an in-memory index per scoring run, loaded on first use of the run and kept while it is
 * among the newest runs asked for. A run's scores never change once readers can see them, so an index never goes
 * stale; a newer run is picked up as soon as customers' latest profiles point to it.
 */
export function createSimilarCustomers(db: Knex): SimilarCustomers {
  // Insertion order is recency of first use: the oldest entry is evicted first.
  const indexes = new Map<number, Promise<EmbeddingIndex>>();

  function indexOf(runId: number): Promise<EmbeddingIndex> {
    let index = indexes.get(runId);
    if (!index) {
      index = loadRun(db, runId);
      indexes.set(runId, index);
      // A failed load (database down) is not remembered: the next request tries again.
      index.catch(() => indexes.get(runId) === index && indexes.delete(runId));
      while (indexes.size > RUNS_KEPT) indexes.delete(indexes.keys().next().value!);
    }
    return index;
  }

  return {
    async find(customerId, k) {
      let latest = await latestEmbedding(db, customerId);
      if (!latest) {
        await loadProfile(db, customerId); // throws the 404 that says whether the customer is unknown or not scored yet
        latest = await latestEmbedding(db, customerId); // scored in between
      }
      if (!latest?.embedding?.length) throw new NotFoundError(`Customer ${customerId} has no behaviour embedding in its latest profile`);
      const index = await indexOf(Number(latest.run_id));
      return { asOf: latest.as_of.toISOString(), similar: index.nearest(latest.embedding, k, customerId) };
    },
  };
}
