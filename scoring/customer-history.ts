import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../lib/errors';

/** One thing the customer did, as ingested: an order, a session or a return. Money is decimal text. */
export type TimelineEvent =
  | {
      kind: 'order';
      id: string;
      at: string;
      amount: string;
      currency: string;
      discountAmount: string;
      channel: string | null;
      status: string;
    }
  | { kind: 'return'; id: string; at: string; amount: string; currency: string | null; orderId: string | null }
  | { kind: 'session'; id: string; at: string; durationS: number; pageViews: number; device: string | null };

export interface TimelinePage {
  customerId: string;
  events: TimelineEvent[];
  /** Pass as `after` for the next (older) page; null when this page is the last. */
  nextCursor: string | null;
}

/** The customer's score in one published scoring run. */
export interface RunScore {
  runId: number;
  asOf: string;
  publishedAt: string;
  churnProbability: number | null;
  riskBand: string | null;
  clvExpectedNetRevenue: string | null;
  clvLower: string | null;
  clvUpper: string | null;
  segment: string | null;
  confidence: string;
  modelVersions: Record<string, unknown>;
}

async function assertCustomer(db: Knex, customerId: string): Promise<void> {
  if (!(await db('customers').first('customer_id').where({ customer_id: customerId })))
    throw new NotFoundError(`Unknown customer: ${customerId}`);
}

// The cursor is the last event's position (exact timestamp as Postgres text, kind, id): keyset paging stays right when
// events arrive meanwhile, and microsecond timestamps survive (a JavaScript Date would drop them).
type Position = { at: string; kind: string; id: string };
const encodeCursor = (p: Position) => Buffer.from(JSON.stringify([p.at, p.kind, p.id])).toString('base64url');

function decodeCursor(cursor: string): Position {
  try {
    const [at, kind, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && !Number.isNaN(Date.parse(at)) && typeof kind === 'string' && typeof id === 'string')
      return { at, kind, id };
  } catch {
    // reported below
  }
  throw new ValidationError('Invalid query parameter "after": not a cursor this API gave (use nextCursor)', 'after');
}

interface TimelineRow {
  kind: 'order' | 'return' | 'session';
  id: string;
  at: Date;
  at_text: string;
  amount: string | null;
  currency: string | null;
  discount_amount: string | null;
  channel: string | null;
  status: string | null;
  order_id: string | null;
  duration_s: number | null;
  page_views: number | null;
  device: string | null;
}

function toEvent(r: TimelineRow): TimelineEvent {
  const at = r.at.toISOString();
  if (r.kind === 'order')
    return {
      kind: 'order',
      id: r.id,
      at,
      amount: r.amount!,
      currency: r.currency!,
      discountAmount: r.discount_amount!,
      channel: r.channel,
      status: r.status!,
    };
  if (r.kind === 'return') return { kind: 'return', id: r.id, at, amount: r.amount!, currency: r.currency, orderId: r.order_id };
  return { kind: 'session', id: r.id, at, durationS: r.duration_s!, pageViews: r.page_views!, device: r.device };
}

/** The customer's orders, sessions and returns, newest first, `limit` at a time (404 for an unknown customer). */
export async function customerTimeline(db: Knex, customerId: string, opts: { limit: number; after?: string }): Promise<TimelinePage> {
  const after = opts.after === undefined ? null : decodeCursor(opts.after);
  await assertCustomer(db, customerId);
  const { rows } = (await db.raw(
    `select e.*, e.at::text as at_text from (
       select 'order' as kind, order_id as id, ordered_at as at, amount::text as amount, currency::text as currency,
              discount_amount::text as discount_amount, channel, status, null::text as order_id,
              null::int as duration_s, null::int as page_views, null::text as device
         from orders where customer_id = :customerId
       union all
       select 'return', r.return_id, r.returned_at, r.amount::text, o.currency::text, null, null, null, r.order_id, null, null, null
         from returns r left join orders o on o.order_id = r.order_id where r.customer_id = :customerId
       union all
       select 'session', session_id, started_at, null, null, null, null, null, null, duration_s, page_views, device
         from sessions where customer_id = :customerId
     ) e
     where :afterAt::timestamptz is null or (e.at, e.kind, e.id) < (:afterAt::timestamptz, :afterKind, :afterId)
     order by e.at desc, e.kind desc, e.id desc
     limit :take`,
    { customerId, afterAt: after?.at ?? null, afterKind: after?.kind ?? null, afterId: after?.id ?? null, take: opts.limit + 1 },
  )) as { rows: TimelineRow[] };
  const page = rows.slice(0, opts.limit);
  const last = page[page.length - 1];
  return {
    customerId,
    events: page.map(toEvent),
    nextCursor: rows.length > opts.limit && last ? encodeCursor({ at: last.at_text, kind: last.kind, id: last.id }) : null,
  };
}

/** The customer's scores in the published runs that scored them, newest run first (404 for an unknown customer). */
export async function customerScoreHistory(
  db: Knex,
  customerId: string,
  opts: { limit: number },
): Promise<{ customerId: string; runs: RunScore[] }> {
  await assertCustomer(db, customerId);
  const rows = (await db('customer_risk_scores as s')
    .join('scoring_runs as r', 'r.run_id', 's.run_id')
    .where('s.customer_id', customerId)
    .whereNotNull('r.published_at')
    .orderBy([
      { column: 'r.as_of', order: 'desc' },
      { column: 'r.published_at', order: 'desc' },
    ])
    .limit(opts.limit)
    .select(
      'r.run_id',
      'r.as_of',
      'r.published_at',
      's.churn_probability',
      's.risk_band',
      db.raw('s.clv_expected_net_revenue::text as clv'),
      db.raw('s.clv_lower::text as clv_lower'),
      db.raw('s.clv_upper::text as clv_upper'),
      's.segment',
      's.confidence',
      's.model_versions',
    )) as Record<string, unknown>[];
  return {
    customerId,
    runs: rows.map((r) => ({
      runId: Number(r.run_id),
      asOf: (r.as_of as Date).toISOString(),
      publishedAt: (r.published_at as Date).toISOString(),
      churnProbability: r.churn_probability as number | null,
      riskBand: r.risk_band as string | null,
      clvExpectedNetRevenue: r.clv as string | null,
      clvLower: r.clv_lower as string | null,
      clvUpper: r.clv_upper as string | null,
      segment: r.segment as string | null,
      confidence: r.confidence as string,
      modelVersions: r.model_versions as Record<string, unknown>,
    })),
  };
}
