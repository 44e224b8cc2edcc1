import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { IngestSummary } from '../ingestion/ingest-file';

const { ingestEntityFile } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // Ingestion heartbeats every few seconds while it reads: a crashed worker's file is retried within a minute.
  heartbeatTimeout: '1 minute',
  // Each failure says itself whether a retry can help (activities/failures.ts): bad input fails at once.
  retry: { maximumAttempts: 3 },
});

export interface IngestShopInput {
  /** Folder with customers.csv, identities.csv, orders.csv, order_items.csv, returns.csv, sessions.csv (each optional). */
  files: Partial<Record<'customers' | 'identities' | 'orders' | 'order_items' | 'returns' | 'sessions', string>>;
  notAfter?: string;
}

/**
 * Ingests a shop's files in dependency order: customers, then identities (they resolve to customers), then orders
 * (they resolve through identities), then items, returns and sessions side by side (they need orders/customers).
 */
export async function ingestShopWorkflow(input: IngestShopInput): Promise<IngestSummary[]> {
  const run = (entity: keyof IngestShopInput['files']) => {
    const file = input.files[entity];
    return file ? ingestEntityFile({ entity, file, notAfter: input.notAfter }).then((s) => [s]) : Promise.resolve([]);
  };
  const summaries: IngestSummary[] = [];
  for (const entity of ['customers', 'identities', 'orders'] as const) summaries.push(...(await run(entity)));
  const rest = await Promise.all([run('order_items'), run('returns'), run('sessions')]);
  return [...summaries, ...rest.flat()];
}
