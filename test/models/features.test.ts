import { expect } from 'chai';
import type { Knex } from 'knex';
import { migrateLatest, migrateRollbackAll } from '../../lib/db';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { FEATURE_CATALOG, FEATURE_NAMES, FEATURE_VERSION } from '../../features/catalog';
import { computeFeatureSnapshot, loadFeatureMatrix } from '../../features/snapshots';
import { featureQuery } from '../../features/sql';
import { freshDatabase, type TestDatabase } from '../support/db';

const AS_OF = new Date('2026-07-01T00:00:00Z');
const DAY_MS = 86_400_000;
const daysBefore = (days: number) => new Date(AS_OF.getTime() - days * DAY_MS);
const laterThanAsOf = (ms: number) => new Date(AS_OF.getTime() + ms);

type FeatureValues = Record<string, number | null>;

/**
 * A small world, as of 2026-07-01. Alice buys four times (365, 120, 30 and 10 days before as_of), cancels one
 * order and has one refunded, returns twice and browses; Bob bought once; Carol only cancelled; Dave only browsed.
 */
async function seedSmallWorld(db: Knex): Promise<void> {
  await db('customers').insert([
    { customer_id: 'c_alice', signup_at: new Date('2025-01-01T00:00:00Z') },
    { customer_id: 'c_bob', signup_at: new Date('2026-06-01T00:00:00Z') },
    { customer_id: 'c_carol', signup_at: new Date('2026-03-01T00:00:00Z') },
    { customer_id: 'c_dave', signup_at: null },
  ]);
  const order = (order_id: string, customer_id: string, ordered_at: Date, amount: number, discount_amount: number, status: string) => ({
    order_id,
    customer_id,
    ordered_at,
    amount,
    discount_amount,
    status,
    currency: 'EUR',
  });
  await db('orders').insert([
    order('a1', 'c_alice', daysBefore(365), 100, 0, 'completed'), // exactly 365 days: outside the 365-day window
    order('a2', 'c_alice', daysBefore(120), 200, 50, 'completed'),
    order('a3', 'c_alice', daysBefore(30), 60, 0, 'completed'), // exactly 30 days: outside the 30-day window
    order('a4', 'c_alice', daysBefore(10), 40, 10, 'completed'),
    order('a5', 'c_alice', daysBefore(6), 999, 0, 'cancelled'),
    order('a6', 'c_alice', daysBefore(47), 500, 0, 'refunded'),
    order('b1', 'c_bob', daysBefore(20), 80, 20, 'completed'),
    order('c1', 'c_carol', daysBefore(16), 30, 0, 'cancelled'),
  ]);
  // line_no: each order's lines numbered in the order they are listed (as ingestion numbers them).
  const lines = new Map<string, number>();
  const item = (order_id: string, sku: string, category: string | null) => {
    const line_no = (lines.get(order_id) ?? 0) + 1;
    lines.set(order_id, line_no);
    return { order_id, line_no, sku, category, quantity: 1, unit_price: 10 };
  };
  await db('order_items').insert([
    item('a1', 'S1', 'shoes'),
    item('a2', 'S2', 'bags'),
    item('a2', 'S3', 'shoes'),
    item('a3', 'H1', 'hats'),
    item('a4', 'X1', null),
    item('a4', 'B2', 'bags'),
    item('a5', 'G1', 'garden'),
    item('a6', 'T9', 'tech'),
    item('b1', 'Y1', 'toys'),
  ]);
  await db('returns').insert([
    { return_id: 'r1', order_id: 'a2', customer_id: 'c_alice', returned_at: daysBefore(113), amount: 50 },
    { return_id: 'r2', order_id: 'a4', customer_id: 'c_alice', returned_at: daysBefore(6), amount: 20 },
  ]);
  const session = (session_id: string, customer_id: string, started_at: Date, duration_s: number, page_views: number) => ({
    session_id,
    customer_id,
    started_at,
    duration_s,
    page_views,
  });
  await db('sessions').insert([
    session('s1', 'c_alice', daysBefore(0.5), 600, 5),
    session('s2', 'c_alice', daysBefore(61), 1200, 10),
    session('s3', 'c_alice', daysBefore(150), 300, 3),
    session('s4', 'c_alice', AS_OF, 60, 1), // at as_of exactly: included
    session('d1', 'c_dave', daysBefore(11), 120, 4),
  ]);
}

function sampleStd(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
}

const noActivity: FeatureValues = {
  recency_days: null,
  orders_30d: 0,
  orders_90d: 0,
  orders_365d: 0,
  orders_lifetime: 0,
  spend_30d: 0,
  spend_90d: 0,
  spend_365d: 0,
  spend_lifetime: 0,
  orders_change_90d: 0,
  spend_ratio_90d: null,
  tenure_days: null,
  days_since_signup: null,
  gap_mean_days: null,
  gap_stddev_days: null,
  gap_overdue_ratio: null,
  average_order_value: null,
  returns_lifetime: 0,
  returns_90d: 0,
  returned_amount_lifetime: 0,
  return_rate: null,
  discount_share: null,
  days_since_last_session: null,
  sessions_30d: 0,
  sessions_90d: 0,
  sessions_change_90d: 0,
  page_views_30d: 0,
  page_views_90d: 0,
  average_session_minutes_90d: null,
  categories_365d: 0,
  active_months_last_12: 0,
  cancelled_orders_365d: 0,
  recency_gap_zscore: null,
  orders_prior_90d: 0,
  orders_share_90d_of_365d: null,
  spend_share_90d_of_365d: null,
  categories_lifetime: 0,
  return_rate_365d: null,
  orders_same_period_last_year: null,
};

// Alice's gaps between purchases: 365 − 120 = 245, 120 − 30 = 90, 30 − 10 = 20 days.
const expectedByCustomer: Record<string, FeatureValues> = {
  c_alice: {
    recency_days: 10,
    orders_30d: 1,
    orders_90d: 2,
    orders_365d: 3,
    orders_lifetime: 4,
    spend_30d: 40,
    spend_90d: 100,
    spend_365d: 300,
    spend_lifetime: 400,
    orders_change_90d: 2 - 1,
    spend_ratio_90d: 100 / 200,
    tenure_days: 365,
    days_since_signup: 546,
    gap_mean_days: 355 / 3,
    gap_stddev_days: sampleStd([245, 90, 20]),
    gap_overdue_ratio: 10 / (355 / 3),
    average_order_value: 100,
    returns_lifetime: 2,
    returns_90d: 1,
    returned_amount_lifetime: 70,
    return_rate: 70 / 400,
    discount_share: 60 / 460,
    days_since_last_session: 0,
    sessions_30d: 2,
    sessions_90d: 3,
    sessions_change_90d: 3 - 1,
    page_views_30d: 6,
    page_views_90d: 16,
    average_session_minutes_90d: (600 + 1200 + 60) / 3 / 60,
    categories_365d: 3, // bags, shoes, hats; not the uncategorised item, nor the cancelled or refunded orders' items
    active_months_last_12: 3, // 30-day months 0 (10 d), 1 (30 d) and 4 (120 d)
    cancelled_orders_365d: 1,
    recency_gap_zscore: (10 - 355 / 3) / sampleStd([245, 90, 20]),
    orders_prior_90d: 1, // a2, 120 days old
    orders_share_90d_of_365d: 2 / 3,
    spend_share_90d_of_365d: 100 / 300,
    categories_lifetime: 3, // shoes (a1) too, which is 365 days old; still not the cancelled or refunded orders' items
    return_rate_365d: 70 / 300,
    // A buyer a year ago, but a1 is exactly 365 days old: outside (as_of − 365 d, as_of − 275 d].
    orders_same_period_last_year: 0,
  },
  c_bob: {
    ...noActivity,
    recency_days: 20,
    orders_30d: 1,
    orders_90d: 1,
    orders_365d: 1,
    orders_lifetime: 1,
    spend_30d: 80,
    spend_90d: 80,
    spend_365d: 80,
    spend_lifetime: 80,
    orders_change_90d: 1,
    tenure_days: 20,
    days_since_signup: 30,
    average_order_value: 80,
    return_rate: 0,
    discount_share: 20 / 100,
    categories_365d: 1,
    active_months_last_12: 1,
    orders_share_90d_of_365d: 1,
    spend_share_90d_of_365d: 1,
    categories_lifetime: 1,
    return_rate_365d: 0,
  },
  c_carol: { ...noActivity, days_since_signup: 122, cancelled_orders_365d: 1 },
  c_dave: {
    ...noActivity,
    days_since_last_session: 11,
    sessions_30d: 1,
    sessions_90d: 1,
    sessions_change_90d: 1,
    page_views_30d: 4,
    page_views_90d: 4,
    average_session_minutes_90d: 2,
  },
};

interface FeatureRow {
  customer_id: string;
  values: (number | null)[];
}

async function storedSnapshot(db: Knex, asOf: Date): Promise<FeatureRow[]> {
  return db('feature_snapshots')
    .where({ as_of: asOf, feature_version: FEATURE_VERSION })
    .orderBy('customer_id')
    .select('customer_id', 'values');
}

async function queriedFeatures(db: Knex, population: 'purchasers' | 'any_event'): Promise<FeatureRow[]> {
  const query = featureQuery(AS_OF, population);
  const result = await db.raw(`${query.sql} order by customer_id`, query.bindings);
  return result.rows;
}

function expectFeatures(row: FeatureRow, expected: FeatureValues): void {
  expect(Object.keys(expected), 'every feature has an expected value').to.have.members([...FEATURE_NAMES]);
  FEATURE_NAMES.forEach((name, j) => {
    const actual = row.values[j];
    const want = expected[name];
    const where = `${row.customer_id}.${name}`;
    if (want === null) expect(actual, where).to.equal(null);
    else expect(actual, where).to.be.closeTo(want, 1e-5 * Math.max(1, Math.abs(want)));
  });
}

describe('customer features', () => {
  describe('catalog', () => {
    it('declares each feature once, in snake_case, with a unit and a description', () => {
      expect(new Set(FEATURE_NAMES).size).to.equal(FEATURE_NAMES.length);
      for (const feature of FEATURE_CATALOG) {
        expect(feature.name).to.match(/^[a-z][a-z0-9_]*$/);
        expect(['days', 'minutes', 'count', 'money', 'ratio']).to.include(feature.unit);
        expect(feature.description.trim()).not.to.equal('');
      }
    });
  });

  describe('snapshots', () => {
    let t: TestDatabase;
    before(async () => {
      t = await freshDatabase('features');
      await seedSmallWorld(t.db);
    });
    after(() => t.db.destroy());

    it('match the hand-computed values of a repeat buyer and a one-order buyer', async () => {
      const summary = await computeFeatureSnapshot(t.db, AS_OF);
      expect(summary).to.deep.equal({ asOf: AS_OF, featureVersion: FEATURE_VERSION, population: 'purchasers', customerCount: 2 });
      const rows = await storedSnapshot(t.db, AS_OF);
      expect(rows.map((r) => r.customer_id)).to.deep.equal(['c_alice', 'c_bob']);
      for (const row of rows) expectFeatures(row, expectedByCustomer[row.customer_id]);
    });

    it('cover everyone with an event at or before as_of on request, with zero counts and missing durations', async () => {
      const rows = await queriedFeatures(t.db, 'any_event');
      expect(rows.map((r) => r.customer_id)).to.deep.equal(['c_alice', 'c_bob', 'c_carol', 'c_dave']);
      for (const row of rows) expectFeatures(row, expectedByCustomer[row.customer_id]);
    });

    it('read nothing after as_of: later orders, returns, sessions and customers change no snapshot', async () => {
      await computeFeatureSnapshot(t.db, AS_OF);
      const before = await storedSnapshot(t.db, AS_OF);
      const everyoneBefore = await queriedFeatures(t.db, 'any_event');

      await t.db('customers').insert({ customer_id: 'c_erin', signup_at: laterThanAsOf(DAY_MS) });
      await t.db('orders').insert([
        { order_id: 'a7', customer_id: 'c_alice', ordered_at: laterThanAsOf(1000), amount: 1000, currency: 'EUR', status: 'completed' },
        { order_id: 'c2', customer_id: 'c_carol', ordered_at: laterThanAsOf(2 * DAY_MS), amount: 10, currency: 'EUR', status: 'completed' },
        { order_id: 'e1', customer_id: 'c_erin', ordered_at: laterThanAsOf(DAY_MS), amount: 70, currency: 'EUR', status: 'completed' },
      ]);
      await t.db('order_items').insert({ order_id: 'a7', line_no: 1, sku: 'N1', category: 'new', quantity: 1, unit_price: 1000 });
      await t
        .db('returns')
        .insert({ return_id: 'r3', order_id: 'b1', customer_id: 'c_bob', returned_at: laterThanAsOf(3_600_000), amount: 80 });
      await t
        .db('sessions')
        .insert({ session_id: 's5', customer_id: 'c_alice', started_at: laterThanAsOf(60_000), duration_s: 30, page_views: 2 });

      const recomputed = await computeFeatureSnapshot(t.db, AS_OF);
      expect(recomputed.customerCount).to.equal(2);
      expect(await storedSnapshot(t.db, AS_OF)).to.deep.equal(before);
      expect(await queriedFeatures(t.db, 'any_event')).to.deep.equal(everyoneBefore);
    });

    it('recompute idempotently, replacing the snapshot as a whole, also when two run at once', async () => {
      const first = await computeFeatureSnapshot(t.db, AS_OF);
      const rows = await storedSnapshot(t.db, AS_OF);
      const second = await computeFeatureSnapshot(t.db, AS_OF);
      expect(second.customerCount).to.equal(first.customerCount);
      expect(await storedSnapshot(t.db, AS_OF)).to.deep.equal(rows);
      const concurrent = await Promise.all([computeFeatureSnapshot(t.db, AS_OF), computeFeatureSnapshot(t.db, AS_OF)]);
      expect(concurrent.map((s) => s.customerCount)).to.deep.equal([first.customerCount, first.customerCount]);
      expect(await storedSnapshot(t.db, AS_OF)).to.deep.equal(rows);
      const headers = await t.db('feature_snapshot_headers').where({ as_of: AS_OF, feature_version: FEATURE_VERSION });
      expect(headers.map((h) => h.customer_count)).to.deep.equal([first.customerCount]);
    });

    it('refuse a feature version this build does not compute, and a changed definition under an old version', async () => {
      await computeFeatureSnapshot(t.db, AS_OF, { featureVersion: 'not-this-one' }).then(
        () => expect.fail('computed a foreign version'),
        (error) => expect(error).to.be.instanceOf(ValidationError),
      );
      const stored = t.db('feature_sets').where({ feature_version: FEATURE_VERSION });
      const { definition_sha256 } = await stored.clone().first('definition_sha256');
      await stored.clone().update({ definition_sha256: 'an older definition' });
      const rows = await storedSnapshot(t.db, AS_OF);
      try {
        await computeFeatureSnapshot(t.db, AS_OF).then(
          () => expect.fail('recomputed under a changed definition'),
          (error) => expect(error).to.be.instanceOf(ConflictError),
        );
        expect(await storedSnapshot(t.db, AS_OF), 'the refused computation left the snapshot alone').to.deep.equal(rows);
      } finally {
        await stored.clone().update({ definition_sha256 });
      }
    });

    it('load as a row-major matrix with NaN for missing values, whole or for chosen customers', async () => {
      await computeFeatureSnapshot(t.db, AS_OF);
      const matrix = await loadFeatureMatrix(t.db, AS_OF, FEATURE_VERSION);
      const ncol = FEATURE_NAMES.length;
      expect(matrix.customerIds).to.deep.equal(['c_alice', 'c_bob']);
      expect(matrix.featureNames).to.deep.equal(FEATURE_NAMES);
      expect([matrix.nrow, matrix.ncol, matrix.X.length]).to.deep.equal([2, ncol, 2 * ncol]);
      const at = (row: number, name: string) => matrix.X[row * ncol + FEATURE_NAMES.indexOf(name)];
      expect(at(0, 'recency_days')).to.equal(10);
      expect(at(0, 'gap_mean_days')).to.equal(Math.fround(355 / 3));
      expect(at(1, 'gap_stddev_days')).to.satisfy(Number.isNaN);
      expect(at(1, 'spend_ratio_90d')).to.satisfy(Number.isNaN);
      expect(at(1, 'returns_lifetime')).to.equal(0);

      const paged = await loadFeatureMatrix(t.db, AS_OF, FEATURE_VERSION, { pageSize: 1 });
      expect(paged.customerIds).to.deep.equal(matrix.customerIds);
      expect(Array.from(paged.X)).to.deep.equal(Array.from(matrix.X));

      const chosen = await loadFeatureMatrix(t.db, AS_OF, FEATURE_VERSION, { customerIds: ['c_bob', 'c_nobody', 'c_alice', 'c_bob'] });
      expect(chosen.customerIds).to.deep.equal(['c_bob', 'c_alice']);
      expect(chosen.nrow).to.equal(2);
      expect(Array.from(chosen.X.subarray(0, ncol))).to.deep.equal(Array.from(matrix.X.subarray(ncol)));
      expect(Array.from(chosen.X.subarray(ncol))).to.deep.equal(Array.from(matrix.X.subarray(0, ncol)));
    });

    it('report a snapshot that was never computed as not found', async () => {
      await loadFeatureMatrix(t.db, daysBefore(1), FEATURE_VERSION).then(
        () => expect.fail('loaded a snapshot that does not exist'),
        (error) => expect(error).to.be.instanceOf(NotFoundError),
      );
    });
  });

  describe('feature snapshot migration', () => {
    let t: TestDatabase;
    before(async () => {
      t = await freshDatabase('features_migration');
    });
    after(() => t.db.destroy());

    it('goes down with its data and up again', async () => {
      await seedSmallWorld(t.db);
      await computeFeatureSnapshot(t.db, AS_OF);
      const featureTables = () =>
        t.db('information_schema.tables').where({ table_schema: 'public' }).where('table_name', 'like', 'feature_%').pluck('table_name');

      await migrateRollbackAll(t.db);
      expect(await featureTables()).to.deep.equal([]);
      await migrateLatest(t.db);
      expect(await featureTables()).to.have.members(['feature_snapshot_headers', 'feature_snapshots', 'feature_sets']);
    });
  });
});
