import type { Knex } from 'knex';
import type { EntityName, EntityRecords } from './entities';
import type { RejectReason } from './fields';

/**
 * Set-based upserts for one chunk of validated rows: each chunk is one or two statements whose columns travel
 * as arrays (unnest), so a chunk of thousands of rows costs a couple of round trips. Rows are written only when
 * they differ from what is stored, so re-ingesting a file changes nothing; and only when they are not older than
 * what is stored (the ordering rule, README "Ordering"), so an older export never undoes a newer one.
 */
export interface Validated<K extends EntityName> {
  line: number;
  raw: string;
  record: EntityRecords[K];
  /** Columns the entity does not know: scalars as text, nested NDJSON values as JSON. */
  metadata: Record<string, unknown>;
}

export interface LoadContext {
  batchId: number;
  /** The batch's export time (ISO), the version of every row without its own `updated_at`. */
  exportedAt: string;
  /** Apply rows even when the stored row is newer. */
  force: boolean;
}

export interface LoadResult {
  rejections: LoadRejection[];
  /** Rows not applied because the stored row is newer and differs (the ordering rule). */
  stale: number;
}

export interface LoadRejection {
  line: number;
  raw: string;
  reasons: { field: string; reason: RejectReason; value?: string }[];
}

/** knex's binding types do not admit arrays with nulls; Postgres arrays of nullable values are what unnest needs. */
function sql<T = unknown>(db: Knex, text: string, bindings: unknown[]): Promise<T> {
  return db.raw(text, bindings as Knex.RawBinding[]) as unknown as Promise<T>;
}

const col = <T, V>(rows: T[], pick: (r: T) => V) => rows.map(pick);
const json = (m: Record<string, unknown>) => JSON.stringify(m);
/** A row's version: its own `updated_at` when the file has one, else the batch's export time. */
const versions = <K extends EntityName>(rows: Validated<K>[], ctx: LoadContext) =>
  rows.map((x) => (x.record as { updated_at: Date | null }).updated_at?.toISOString() ?? ctx.exportedAt);

/**
 * Two CTEs: `stale` counts the rows of `from` that the ordering rule holds back (the stored row is newer and
 * differs), and `written` upserts the others into `table`. A row is applied when its version is not older than the
 * stored one (or with --force); it is written only when a value or the version changes. The stored version only
 * ever grows, so a forced older file does not make a later, newer export look stale. `from` must have the columns,
 * the conflict key and `source_version`. The batch id and force flag are numbers and booleans of ours, inlined.
 */
function orderedUpsert(
  table: string,
  options: { key: string[]; columns: string[]; updated?: string[]; from: string; ctx: LoadContext; set?: string; rewriteWhen?: string },
): string {
  const { key, columns, from, ctx } = options;
  const updated = options.updated ?? columns.filter((c) => !key.includes(c));
  const tuple = (prefix: string) => `(${updated.map((c) => `${prefix}.${c}`).join(', ')})`;
  const force = ctx.force ? 'true' : 'false';
  const newest = `greatest(${table}.source_version, excluded.source_version)`;
  return `stale as (
      select count(*)::int as n from ${from} i join ${table} on ${key.map((k) => `${table}.${k} = i.${k}`).join(' and ')}
       where not ${force} and ${table}.source_version > i.source_version and ${tuple(table)} is distinct from ${tuple('i')}
    ), written as (
      insert into ${table} (${columns.join(', ')}, source_version, batch_id)
      select ${columns.join(', ')}, source_version, ${Number(ctx.batchId)} from ${from}
      on conflict (${key.join(', ')}) do update set
        ${updated.map((c) => `${c} = excluded.${c}`).join(', ')},${options.set ? ` ${options.set},` : ''}
        source_version = ${newest}, batch_id = excluded.batch_id
      where (${force} or ${table}.source_version is null or excluded.source_version >= ${table}.source_version)
        and (${tuple(table)} is distinct from ${tuple('excluded')} or ${table}.source_version is distinct from ${newest}${
          options.rewriteWhen ? ` or ${options.rewriteWhen}` : ''
        })
    )`;
}

/**
 * Resolves a customer reference (a customer id, a merged id, or a source id) to the canonical customer id.
 * Scalar subqueries on purpose: each is an index probe, and the identities probe runs only when the first misses
 * (a join would hash the whole customers table for every chunk).
 */
const RESOLVED_CUSTOMER = `
  cross join lateral (select coalesce(
    (select c.customer_id from customers c where c.customer_id = i.customer_ref),
    (select x.customer_id from customer_identities x where x.external_id = i.customer_ref order by x.source limit 1)
  ) as id) r`;

// Events that name a customer nobody has sent yet create a stub customer, so no event is lost.
const STUBS = (ctx: LoadContext) => `
  stubs as (
    insert into customers (customer_id, is_stub, batch_id)
    -- In id order: chunks loading side by side then take the stub rows' locks in one order and cannot deadlock.
    select distinct customer_id, true, ${Number(ctx.batchId)} from resolved where is_new order by customer_id
    on conflict (customer_id) do nothing
  )`;

type Loader<K extends EntityName> = (db: Knex, rows: Validated<K>[], ctx: LoadContext) => Promise<LoadResult>;

async function staleCount(result: Promise<{ rows: { stale: number }[] }>): Promise<number> {
  return (await result).rows[0]?.stale ?? 0;
}

const loadOrders: Loader<'orders'> = async (db, rows, ctx) => {
  const r = rows.map((x) => x.record);
  const stale = await staleCount(
    sql(
      db,
      `with input as (
       select * from unnest(?::text[], ?::text[], ?::timestamptz[], ?::numeric[], ?::text[], ?::numeric[], ?::text[], ?::text[], ?::jsonb[], ?::timestamptz[])
         as t(order_id, customer_ref, ordered_at, amount, currency, discount_amount, channel, status, metadata, source_version)
     ), resolved as (
       select i.*, coalesce(r.id, i.customer_ref) as customer_id, r.id is null as is_new
         from input i ${RESOLVED_CUSTOMER}
     ), ${STUBS(ctx)}, ${orderedUpsert('orders', {
       key: ['order_id'],
       columns: ['order_id', 'customer_id', 'ordered_at', 'amount', 'currency', 'discount_amount', 'channel', 'status', 'metadata'],
       from: 'resolved',
       ctx,
     })}
     select n as stale from stale`,
      [
        col(r, (x) => x.order_id),
        col(r, (x) => x.customer_id),
        col(r, (x) => x.ordered_at.toISOString()),
        col(r, (x) => x.amount),
        col(r, (x) => x.currency),
        col(r, (x) => x.discount_amount),
        col(r, (x) => x.channel),
        col(r, (x) => x.status),
        col(rows, (x) => json(x.metadata)),
        versions(rows, ctx),
      ],
    ),
  );
  return { rejections: [], stale };
};

const loadSessions: Loader<'sessions'> = async (db, rows, ctx) => {
  const r = rows.map((x) => x.record);
  const stale = await staleCount(
    sql(
      db,
      `with input as (
       select * from unnest(?::text[], ?::text[], ?::timestamptz[], ?::int[], ?::int[], ?::text[], ?::jsonb[], ?::timestamptz[])
         as t(session_id, customer_ref, started_at, duration_s, page_views, device, metadata, source_version)
     ), resolved as (
       select i.*, coalesce(r.id, i.customer_ref) as customer_id, r.id is null as is_new
         from input i ${RESOLVED_CUSTOMER}
     ), ${STUBS(ctx)}, ${orderedUpsert('sessions', {
       key: ['session_id'],
       columns: ['session_id', 'customer_id', 'started_at', 'duration_s', 'page_views', 'device', 'metadata'],
       from: 'resolved',
       ctx,
     })}
     select n as stale from stale`,
      [
        col(r, (x) => x.session_id),
        col(r, (x) => x.customer_id),
        col(r, (x) => x.started_at.toISOString()),
        col(r, (x) => x.duration_s),
        col(r, (x) => x.page_views),
        col(r, (x) => x.device),
        col(rows, (x) => json(x.metadata)),
        versions(rows, ctx),
      ],
    ),
  );
  return { rejections: [], stale };
};

async function knownOrders(db: Knex, orderIds: string[]): Promise<Map<string, string>> {
  const found = await sql<{
    rows: { order_id: string; customer_id: string }[];
  }>(db, 'select order_id, customer_id from orders where order_id = any(?::text[])', [orderIds]);
  return new Map(found.rows.map((o) => [o.order_id, o.customer_id]));
}

function unknownOrderRejection<K extends EntityName>(x: Validated<K>, orderId: string): LoadRejection {
  return {
    line: x.line,
    raw: x.raw,
    reasons: [{ field: 'order_id', reason: 'unknown_order', value: orderId }],
  };
}

const loadOrderItems: Loader<'order_items'> = async (db, rows, ctx) => {
  const orders = await knownOrders(db, [...new Set(rows.map((x) => x.record.order_id))]);
  const rejections = rows.filter((x) => !orders.has(x.record.order_id)).map((x) => unknownOrderRejection(x, x.record.order_id));
  const ok = rows.filter((x) => orders.has(x.record.order_id));
  if (ok.length === 0) return { rejections, stale: 0 };
  const r = ok.map((x) => x.record);
  const stale = await staleCount(
    sql(
      db,
      `with input as (
       select * from unnest(?::text[], ?::int[], ?::text[], ?::text[], ?::int[], ?::numeric[], ?::jsonb[], ?::timestamptz[])
         as t(order_id, line_no, sku, category, quantity, unit_price, metadata, source_version)
     ), ${orderedUpsert('order_items', {
       key: ['order_id', 'line_no'],
       columns: ['order_id', 'line_no', 'sku', 'category', 'quantity', 'unit_price', 'metadata'],
       from: 'input',
       ctx,
     })}
     select n as stale from stale`,
      [
        col(r, (x) => x.order_id),
        col(r, (x) => x.line_no),
        col(r, (x) => x.sku),
        col(r, (x) => x.category),
        col(r, (x) => x.quantity),
        col(r, (x) => x.unit_price),
        col(ok, (x) => json(x.metadata)),
        versions(ok, ctx),
      ],
    ),
  );
  return { rejections, stale };
};

const loadReturns: Loader<'returns'> = async (db, rows, ctx) => {
  const orders = await knownOrders(db, [...new Set(rows.flatMap((x) => (x.record.order_id ? [x.record.order_id] : [])))]);
  const rejections: LoadRejection[] = [];
  const ok: Validated<'returns'>[] = [];
  for (const x of rows) {
    const { order_id, customer_id } = x.record;
    if (order_id && !orders.has(order_id)) rejections.push(unknownOrderRejection(x, order_id));
    else if (!order_id && !customer_id) {
      rejections.push({
        line: x.line,
        raw: x.raw,
        reasons: [{ field: 'customer_id', reason: 'missing' }],
      });
    } else ok.push(x);
  }
  if (ok.length === 0) return { rejections, stale: 0 };
  const r = ok.map((x) => x.record);
  // A return without customer_id belongs to its order's customer.
  const stale = await staleCount(
    sql(
      db,
      `with input as (
       select * from unnest(?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::numeric[], ?::jsonb[], ?::timestamptz[])
         as t(return_id, order_id, customer_ref, returned_at, amount, metadata, source_version)
     ), resolved as (
       select i.return_id, i.order_id, i.returned_at, i.amount, i.metadata, i.source_version,
              coalesce(o.customer_id, r.id, i.customer_ref) as customer_id,
              (o.customer_id is null and r.id is null) as is_new
         from input i
         left join orders o on o.order_id = i.order_id
         ${RESOLVED_CUSTOMER}
     ), ${STUBS(ctx)}, ${orderedUpsert('returns', {
       key: ['return_id'],
       columns: ['return_id', 'order_id', 'customer_id', 'returned_at', 'amount', 'metadata'],
       from: 'resolved',
       ctx,
     })}
     select n as stale from stale`,
      [
        col(r, (x) => x.return_id),
        col(r, (x) => x.order_id),
        col(r, (x) => x.customer_id),
        col(r, (x) => x.returned_at.toISOString()),
        col(r, (x) => x.amount),
        col(ok, (x) => json(x.metadata)),
        versions(ok, ctx),
      ],
    ),
  );
  return { rejections, stale };
};

/**
 * Customers: a row whose normalised email already belongs to another customer is the same person under another
 * id. It is merged: recorded as an identity (source 'customer') of the first customer, not as a customer of its own.
 */
const loadCustomers: Loader<'customers'> = async (db, rows, ctx) => {
  const emails = [...new Set(rows.flatMap((x) => (x.record.email ? [x.record.email] : [])))];
  const ids = rows.map((x) => x.record.customer_id);
  const [owners, existing, aliases] = await Promise.all([
    sql<{ rows: { email_normalized: string; customer_id: string }[] }>(
      db,
      `select email_normalized, min(customer_id) as customer_id from customers
        where email_normalized = any(?::text[]) and not is_stub group by email_normalized`,
      [emails],
    ),
    sql<{ rows: { customer_id: string }[] }>(db, 'select customer_id from customers where customer_id = any(?::text[])', [ids]),
    sql<{ rows: { external_id: string; customer_id: string }[] }>(
      db,
      `select external_id, customer_id from customer_identities where source = 'customer' and external_id = any(?::text[])`,
      [ids],
    ),
  ]);
  const ownerByEmail = new Map(owners.rows.map((o) => [o.email_normalized, o.customer_id]));
  const isCustomer = new Set(existing.rows.map((c) => c.customer_id));
  const aliasOf = new Map(aliases.rows.map((a) => [a.external_id, a.customer_id]));
  const upserts: Validated<'customers'>[] = [];
  const merges: { id: string; email: string | null; owner: string; version: string }[] = [];
  const rowVersions = versions(rows, ctx);
  for (const [i, x] of rows.entries()) {
    const { customer_id: id, email } = x.record;
    const owner = aliasOf.get(id) ?? (email && !isCustomer.has(id) ? ownerByEmail.get(email) : undefined);
    if (owner && owner !== id) {
      merges.push({ id, email, owner, version: rowVersions[i]! });
    } else {
      upserts.push(x);
      if (email && !ownerByEmail.has(email)) ownerByEmail.set(email, id);
    }
  }
  let stale = 0;
  if (upserts.length > 0) {
    const r = upserts.map((x) => x.record);
    stale = await staleCount(
      sql(
        db,
        `with input as (
         select * from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::jsonb[], ?::timestamptz[])
           as t(customer_id, email_normalized, first_name, country, signup_at, metadata, source_version)
       ), ${orderedUpsert('customers', {
         key: ['customer_id'],
         columns: ['customer_id', 'email_normalized', 'first_name', 'country', 'signup_at', 'metadata'],
         from: 'input',
         ctx,
         // A stub (made by an event) is filled in by the first customer row, whatever its version.
         set: 'is_stub = false, updated_at = now()',
         rewriteWhen: 'customers.is_stub',
       })}
       select n as stale from stale`,
        [
          col(r, (x) => x.customer_id),
          col(r, (x) => x.email),
          col(r, (x) => x.first_name),
          col(r, (x) => x.country),
          col(r, (x) => x.signup_at?.toISOString() ?? null),
          col(upserts, (x) => json(x.metadata)),
          versions(upserts, ctx),
        ],
      ),
    );
  }
  if (merges.length > 0) {
    await upsertIdentities(
      db,
      merges.map((m) => ({
        source: 'customer',
        external_id: m.id,
        email: m.email,
        customer_id: m.owner,
        resolved_by: 'email_merge',
        version: m.version,
      })),
      ctx,
    );
  }
  return { rejections: [], stale };
};

interface IdentityRow {
  source: string;
  external_id: string;
  email: string | null;
  customer_id: string;
  resolved_by: 'customer_id' | 'email' | 'email_merge' | 'new_customer';
  version: string;
}

/** Only the email of a mapping changes; the customer it maps to is kept (identity_conflict otherwise). */
async function upsertIdentities(db: Knex, rows: IdentityRow[], ctx: LoadContext): Promise<number> {
  return staleCount(
    sql(
      db,
      `with input as (
       select * from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[])
         as t(source, external_id, email_normalized, customer_id, resolved_by, source_version)
     ), ${orderedUpsert('customer_identities', {
       key: ['source', 'external_id'],
       columns: ['source', 'external_id', 'email_normalized', 'customer_id', 'resolved_by'],
       updated: ['email_normalized'],
       from: 'input',
       ctx,
     })}
     select n as stale from stale`,
      [
        col(rows, (x) => x.source),
        col(rows, (x) => x.external_id),
        col(rows, (x) => x.email),
        col(rows, (x) => x.customer_id),
        col(rows, (x) => x.resolved_by),
        col(rows, (x) => x.version),
      ],
    ),
  );
}

/**
 * Identities: the merge rule (README "Identity resolution"). A (source, external_id) maps to
 * 1) the customer named by its customer_id (following merges), else 2) the customer owning its normalised email,
 * else 3) a new customer `source:external_id`. A mapping, once made, is kept: a later row mapping the same
 * source id elsewhere is rejected as identity_conflict (kept in ingest_rejects with both ids).
 */
const loadIdentities: Loader<'identities'> = async (db, rows, ctx) => {
  const refs = [...new Set(rows.flatMap((x) => (x.record.customer_id ? [x.record.customer_id] : [])))];
  const emails = [...new Set(rows.flatMap((x) => (x.record.email ? [x.record.email] : [])))];
  const [direct, viaAlias, owners, existing] = await Promise.all([
    sql<{ rows: { customer_id: string }[] }>(db, 'select customer_id from customers where customer_id = any(?::text[])', [refs]),
    sql<{ rows: { external_id: string; customer_id: string }[] }>(
      db,
      `select external_id, customer_id from customer_identities where source = 'customer' and external_id = any(?::text[])`,
      [refs],
    ),
    sql<{ rows: { email_normalized: string; customer_id: string }[] }>(
      db,
      `select email_normalized, min(customer_id) as customer_id from customers
        where email_normalized = any(?::text[]) and not is_stub group by email_normalized`,
      [emails],
    ),
    sql<{
      rows: { source: string; external_id: string; customer_id: string }[];
    }>(
      db,
      `select source, external_id, customer_id from customer_identities
        where (source, external_id) in (select * from unnest(?::text[], ?::text[]))`,
      [rows.map((x) => x.record.source), rows.map((x) => x.record.external_id)],
    ),
  ]);
  const canonical = new Map<string, string>(direct.rows.map((c) => [c.customer_id, c.customer_id]));
  for (const a of viaAlias.rows) canonical.set(a.external_id, a.customer_id);
  const ownerByEmail = new Map(owners.rows.map((o) => [o.email_normalized, o.customer_id]));
  const mapped = new Map(existing.rows.map((e) => [`${e.source}\u0000${e.external_id}`, e.customer_id]));

  const rejections: LoadRejection[] = [];
  const upserts: IdentityRow[] = [];
  const newCustomers: { customer_id: string; email: string | null }[] = [];
  const rowVersions = versions(rows, ctx);
  for (const [i, x] of rows.entries()) {
    const { source, external_id, email, customer_id } = x.record;
    let target: string;
    let resolvedBy: IdentityRow['resolved_by'];
    if (customer_id && canonical.has(customer_id)) [target, resolvedBy] = [canonical.get(customer_id)!, 'customer_id'];
    else if (email && ownerByEmail.has(email)) [target, resolvedBy] = [ownerByEmail.get(email)!, 'email'];
    else {
      target = customer_id ?? `${source}:${external_id}`;
      resolvedBy = 'new_customer';
      newCustomers.push({ customer_id: target, email });
      canonical.set(target, target);
      if (email) ownerByEmail.set(email, target);
    }
    const key = `${source}\u0000${external_id}`;
    const previous = mapped.get(key);
    if (previous !== undefined && previous !== target) {
      rejections.push({
        line: x.line,
        raw: x.raw,
        reasons: [
          {
            field: 'external_id',
            reason: 'identity_conflict',
            value: `${source}:${external_id} is ${previous}, this row says ${target}`,
          },
        ],
      });
      continue;
    }
    mapped.set(key, target);
    upserts.push({
      source,
      external_id,
      email,
      customer_id: target,
      resolved_by: resolvedBy,
      version: rowVersions[i]!,
    });
  }
  if (newCustomers.length > 0) {
    await sql(
      db,
      `insert into customers (customer_id, email_normalized, is_stub, batch_id)
       select t.*, true, ?::bigint from unnest(?::text[], ?::text[]) as t(customer_id, email_normalized)
       on conflict (customer_id) do nothing`,
      [ctx.batchId, col(newCustomers, (c) => c.customer_id), col(newCustomers, (c) => c.email)],
    );
  }
  const stale = upserts.length > 0 ? await upsertIdentities(db, upserts, ctx) : 0;
  return { rejections, stale };
};

export const LOADERS: { [K in EntityName]: Loader<K> } = {
  customers: loadCustomers,
  identities: loadIdentities,
  orders: loadOrders,
  order_items: loadOrderItems,
  returns: loadReturns,
  sessions: loadSessions,
};
