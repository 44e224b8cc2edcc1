import { z } from 'zod/v4';
import {
  currency,
  integer,
  money,
  oneOf,
  optionalEmail,
  optionalInteger,
  optionalText,
  optionalTimestamp,
  requiredText,
  timestamp,
  type ParseContext,
} from './fields';

/**
 * What each ingestible file holds: its known columns (others are kept as metadata), the columns a header
 * must have, how a row is validated, its natural key, and its event time (for freshness). Every entity may carry
 * `updated_at`, the source's own time of the row's last change: the row's version for the ordering rule.
 */
export const ENTITY_NAMES = ['customers', 'identities', 'orders', 'order_items', 'returns', 'sessions'] as const;
export type EntityName = (typeof ENTITY_NAMES)[number];

export const ORDER_STATUSES = ['completed', 'cancelled', 'refunded'] as const;

function schemas(ctx: ParseContext) {
  return {
    customers: z.object({
      customer_id: requiredText,
      email: optionalEmail,
      first_name: optionalText,
      country: optionalText,
      signup_at: optionalTimestamp(ctx),
      updated_at: optionalTimestamp(ctx),
    }),
    identities: z.object({
      source: requiredText.transform((s) => s.toLowerCase()),
      external_id: requiredText,
      email: optionalEmail,
      customer_id: optionalText,
      updated_at: optionalTimestamp(ctx),
    }),
    orders: z.object({
      order_id: requiredText,
      customer_id: requiredText,
      ordered_at: timestamp(ctx),
      amount: money(),
      currency,
      discount_amount: money({ optional: true }),
      channel: optionalText,
      status: oneOf(ORDER_STATUSES, 'completed'),
      updated_at: optionalTimestamp(ctx),
    }),
    order_items: z.object({
      order_id: requiredText,
      // The line's number within its order; when the file has none, its position there (EntitySpec.position).
      line_no: optionalInteger(1, 1_000_000),
      sku: requiredText,
      category: optionalText,
      quantity: integer(1, 100_000),
      unit_price: money(),
      updated_at: optionalTimestamp(ctx),
    }),
    returns: z.object({
      return_id: requiredText,
      order_id: optionalText,
      customer_id: optionalText,
      returned_at: timestamp(ctx),
      amount: money(),
      updated_at: optionalTimestamp(ctx),
    }),
    sessions: z.object({
      session_id: requiredText,
      customer_id: requiredText,
      started_at: timestamp(ctx),
      duration_s: integer(0, 7 * 24 * 3600),
      page_views: integer(0, 1_000_000),
      device: optionalText,
      updated_at: optionalTimestamp(ctx),
    }),
  };
}

export type EntityRecords = { [K in EntityName]: z.output<ReturnType<typeof schemas>[K]> };

export interface EntitySpec<K extends EntityName> {
  name: K;
  columns: readonly string[];
  /** The same columns as a set, for the per-row check of which values are metadata. */
  knownColumns: ReadonlySet<string>;
  requiredColumns: readonly string[];
  schema: z.ZodType<EntityRecords[K], unknown>;
  /** Other names a file may give a column: alias → column. */
  aliases: ReadonlyMap<string, string>;
  key: (r: EntityRecords[K]) => string;
  eventTime: (r: EntityRecords[K]) => Date | null;
  /** Rows numbered within a parent: `number` gives a row its position there (1, 2, 3… in file order) unless it has one. */
  position?: Position<K>;
}

interface Position<K extends EntityName> {
  parent: (r: EntityRecords[K]) => string;
  number: (r: EntityRecords[K], position: number) => void;
}

interface Definition<K extends EntityName> {
  requiredColumns: string[];
  aliases?: Record<string, string>;
  key: (r: EntityRecords[K]) => string;
  eventTime: (r: EntityRecords[K]) => Date | null;
  position?: Position<K>;
}

const definitions: { [K in EntityName]: Definition<K> } = {
  customers: { requiredColumns: ['customer_id'], key: (r) => r.customer_id, eventTime: (r) => r.signup_at },
  identities: { requiredColumns: ['source', 'external_id'], key: (r) => `${r.source}\u0000${r.external_id}`, eventTime: () => null },
  orders: { requiredColumns: ['order_id', 'customer_id', 'ordered_at', 'amount'], key: (r) => r.order_id, eventTime: (r) => r.ordered_at },
  // Invoices list one SKU on several lines (another quantity or price): a line is keyed by its number, not its SKU.
  order_items: {
    requiredColumns: ['order_id', 'sku', 'quantity', 'unit_price'],
    aliases: { line_number: 'line_no' },
    key: (r) => `${r.order_id}\u0000${r.line_no}`,
    eventTime: () => null,
    position: {
      parent: (r) => r.order_id,
      number: (r, position) => {
        r.line_no ??= position;
      },
    },
  },
  returns: { requiredColumns: ['return_id', 'returned_at', 'amount'], key: (r) => r.return_id, eventTime: (r) => r.returned_at },
  sessions: {
    requiredColumns: ['session_id', 'customer_id', 'started_at', 'duration_s', 'page_views'],
    key: (r) => r.session_id,
    eventTime: (r) => r.started_at,
  },
};

export function entitySpec<K extends EntityName>(name: K, ctx: ParseContext): EntitySpec<K> {
  const schema = schemas(ctx)[name];
  const def = definitions[name];
  const aliases = new Map(Object.entries(def.aliases ?? {}));
  return {
    name,
    columns: Object.keys(schema.shape),
    knownColumns: new Set([...Object.keys(schema.shape), ...aliases.keys()]),
    requiredColumns: def.requiredColumns,
    schema: schema as unknown as EntitySpec<K>['schema'],
    aliases,
    key: def.key,
    eventTime: def.eventTime,
    ...(def.position ? { position: def.position } : {}),
  };
}
