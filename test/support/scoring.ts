import type { Knex } from 'knex';
import { trainModels } from '../../training/train-models';
import { ingestedShop, type IngestedShop } from './shop';

/**
 * A small shop of its own (a seed no other test file uses: these tests write models and scoring runs into it) with
 * champion models trained as of its export instant.
 */
export async function trainedShop(seed: number, customers = 3000): Promise<IngestedShop> {
  const shop = await ingestedShop(customers, seed);
  if (!(await shop.db('model_registry').first('model_id'))) await trainModels(shop.db, { asOf: shop.exportInstant, createdBy: 'test' });
  return shop;
}

export interface RunCounts {
  rows: number;
  customers: number;
}

/** Rows of a run and distinct customers among them. */
export async function runCounts(db: Knex, runId: number): Promise<RunCounts> {
  const row = await db('customer_risk_scores')
    .where({ run_id: runId })
    .first(db.raw('count(*)::int as rows'), db.raw('count(distinct customer_id)::int as customers'));
  return { rows: row.rows as number, customers: row.customers as number };
}

/** What readers see: the run ids in customer_profiles_latest and how many rows. */
export async function servedRuns(db: Knex): Promise<{ runIds: number[]; rows: number }> {
  const rows = await db('customer_profiles_latest').select(db.raw('run_id::int as run_id'), db.raw('count(*)::int as n')).groupBy('run_id');
  return { runIds: rows.map((r) => r.run_id as number), rows: rows.reduce((s, r) => s + (r.n as number), 0) };
}

/** Observes customer_profiles_latest every `everyMs` until stopped: each distinct (run ids, rows) seen, in order. */
export function watchServedRuns(db: Knex, everyMs = 100): { stop: () => Promise<string[]> } {
  const seen: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const s = await servedRuns(db);
      const key = `${s.runIds.join(',')}:${s.rows}`;
      if (seen[seen.length - 1] !== key) seen.push(key);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      const s = await servedRuns(db);
      const key = `${s.runIds.join(',')}:${s.rows}`;
      if (seen[seen.length - 1] !== key) seen.push(key);
      return seen;
    },
  };
}
