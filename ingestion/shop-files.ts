import type { GenerateSummary } from '../datagen/generate';
import type { EntityName } from './entities';

/**
 * The ingestion files of a generated shop with the entity each holds, in dependency order: customers, identities
 * (they resolve to customers), orders (they resolve through identities), then order items, returns and sessions.
 * A transactions-only shop has no sessions file, so none is listed.
 */
export function shopIngestionFiles(summary: GenerateSummary): [EntityName, string][] {
  const f = summary.files;
  const files: [EntityName, string][] = [
    ['customers', f.customers.path],
    ['identities', f.identities.path],
    ['orders', f.orders.path],
    ['order_items', f.orderItems.path],
    ['returns', f.returns.path],
  ];
  if (f.sessions) files.push(['sessions', f.sessions.path]);
  return files;
}
