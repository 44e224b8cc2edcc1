import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../lib/errors';
import { DIRTY_KINDS, generateShop, type GenerateOptionsInput, type GenerateSummary } from '../../datagen/generate';

type Row = Record<string, string>;

const EXPORT_MS = Date.parse('2026-07-01T00:00:00Z');
const DAY_MS = 86_400_000;

const EXPECTED_HEADERS: Record<string, string[]> = {
  'customers.csv': ['customer_id', 'email', 'first_name', 'country', 'signup_at', 'acquisition_channel', 'marketing_opt_in'],
  'identities.csv': ['source', 'external_id', 'email', 'customer_id'],
  'orders.csv': ['order_id', 'customer_id', 'ordered_at', 'amount', 'currency', 'discount_amount', 'channel', 'status'],
  'order_items.csv': ['order_id', 'sku', 'category', 'quantity', 'unit_price'],
  'returns.csv': ['return_id', 'order_id', 'customer_id', 'returned_at', 'amount'],
  'sessions.csv': ['session_id', 'customer_id', 'started_at', 'duration_s', 'page_views', 'device'],
  'ground_truth.csv': [
    'customer_id',
    'latent_type',
    'dropout_at',
    'alive_at_export',
    'future_orders',
    'future_net_revenue',
    'first_future_order_at',
    'purchases_per_year',
    'mean_order_value',
    'return_propensity',
  ],
  'dirty_rows.csv': ['file', 'row', 'kind', 'column', 'original_value'],
};

/** Money as the generator writes it, in cents; null for anything else. */
function cents(text: string): number | null {
  const match = /^(\d+)\.(\d{2})$/.exec(text);
  return match ? Number(match[1]) * 100 + Number(match[2]) : null;
}

interface Table {
  header: string[];
  rows: Row[];
}

async function readTable(dir: string, fileName: string): Promise<Table> {
  const records: string[][] = parse(await readFile(join(dir, fileName)));
  const [header, ...data] = records;
  return { header, rows: data.map((fields) => Object.fromEntries(header.map((column, i) => [column, fields[i]]))) };
}

async function readAll(dir: string): Promise<Record<string, Table>> {
  const tables: Record<string, Table> = {};
  for (const fileName of Object.keys(EXPECTED_HEADERS)) tables[fileName] = await readTable(dir, fileName);
  return tables;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

describe('datagen: generateShop', function () {
  let workDir: string;
  let summary: GenerateSummary;
  let tables: Record<string, Table>;
  /** `${file}:${row}` -> kind, from dirty_rows.csv. */
  let listedDirt: Map<string, string>;
  let groundTruth: Map<string, Row>;

  const run = (name: string, options: Omit<GenerateOptionsInput, 'outDir'>): Promise<GenerateSummary> =>
    generateShop({ ...options, outDir: join(workDir, name) });

  before(async function () {
    workDir = await mkdtemp(join(tmpdir(), 'foresight-datagen-'));
    summary = await run('main', { customers: 20_000, seed: 1234 });
    tables = await readAll(summary.outDir);
    listedDirt = new Map(tables['dirty_rows.csv'].rows.map((r) => [`${r.file}:${r.row}`, r.kind]));
    groundTruth = new Map(tables['ground_truth.csv'].rows.map((r) => [r.customer_id, r]));
  });

  after(async function () {
    await rm(workDir, { recursive: true, force: true });
  });

  /** Rows of a file not listed in dirty_rows.csv, with their 1-based row numbers. */
  function cleanRows(fileName: string): Row[] {
    return tables[fileName].rows.filter((_, i) => !listedDirt.has(`${fileName}:${i + 1}`));
  }

  describe('files and schema', function () {
    it('writes the six ingestion files, the ground truth and the dirt record, with their headers', async function () {
      expect((await readdir(summary.outDir)).sort()).to.deep.equal(Object.keys(EXPECTED_HEADERS).sort());
      for (const [fileName, header] of Object.entries(EXPECTED_HEADERS)) {
        expect(tables[fileName].header, fileName).to.deep.equal(header);
        const firstLine = (await readFile(join(summary.outDir, fileName), 'utf8')).split('\n')[0];
        expect(firstLine, fileName).to.equal(header.join(','));
      }
    });

    it('reports the rows of every file in the summary', function () {
      const byFile: Record<string, string> = {
        customers: 'customers.csv',
        identities: 'identities.csv',
        orders: 'orders.csv',
        orderItems: 'order_items.csv',
        returns: 'returns.csv',
        sessions: 'sessions.csv',
        groundTruth: 'ground_truth.csv',
        dirtyRows: 'dirty_rows.csv',
      };
      for (const [key, fileName] of Object.entries(byFile)) {
        expect(summary.files[key as keyof GenerateSummary['files']]?.rows, fileName).to.equal(tables[fileName].rows.length);
      }
      expect(summary.customers).to.equal(20_000);
      expect(summary.exportInstant).to.equal('2026-07-01T00:00:00.000Z');
    });

    it('numbers customers C0000001.. with unique emails and sensible attributes', function () {
      const customers = tables['customers.csv'].rows;
      expect(customers).to.have.length(20_000);
      customers.forEach((c, i) => expect(c.customer_id).to.equal(`C${String(i + 1).padStart(7, '0')}`));
      expect(new Set(customers.map((c) => c.email)).size).to.equal(customers.length);
      for (const c of customers) {
        expect(c.email).to.match(/^[a-z._]+\.[0-9a-z]+@[a-z0-9.-]+$/);
        expect(c.country).to.match(/^[A-Z]{2}$/);
        expect(c.marketing_opt_in).to.be.oneOf(['true', 'false']);
        expect(c.signup_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
      }
      // Signups spread over the three-year history, more of them recently (a growing shop).
      const signups = customers.map((c) => Date.parse(c.signup_at));
      expect(Math.min(...signups)).to.be.within(EXPORT_MS - 1097 * DAY_MS, EXPORT_MS - 1000 * DAY_MS);
      expect(Math.max(...signups)).to.be.within(EXPORT_MS - 5 * DAY_MS, EXPORT_MS - 1);
      const lastYear = signups.filter((t) => t >= EXPORT_MS - 365 * DAY_MS).length;
      expect(lastYear / signups.length).to.be.within(0.45, 0.56);
    });

    it('writes money with two decimals and ISO-8601 timestamps with offsets in clean rows', function () {
      const timestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;
      const badOrders = cleanRows('orders.csv').filter(
        (o) =>
          cents(o.amount) === null ||
          cents(o.discount_amount) === null ||
          !timestamp.test(o.ordered_at) ||
          o.currency !== 'EUR' ||
          !['completed', 'cancelled', 'refunded'].includes(o.status) ||
          !['web', 'app', 'pos'].includes(o.channel),
      );
      expect(badOrders).to.deep.equal([]);
      const badItems = tables['order_items.csv'].rows.filter((i) => cents(i.unit_price) === null || !/^[1-9]\d*$/.test(i.quantity));
      expect(badItems).to.deep.equal([]);
      const badSessions = cleanRows('sessions.csv').filter(
        (s) =>
          !timestamp.test(s.started_at) ||
          !['mobile', 'desktop', 'tablet'].includes(s.device) ||
          !/^\d+$/.test(s.duration_s) ||
          !/^[1-9]\d*$/.test(s.page_views),
      );
      expect(badSessions).to.deep.equal([]);
      const categories = new Set(tables['order_items.csv'].rows.map((i) => i.category));
      expect(categories.size).to.equal(8);
    });

    it('quotes fields per RFC 4180 (commas in malformed amounts, spaces around typed emails)', async function () {
      const raw = await readFile(join(summary.outDir, 'identities.csv'), 'utf8');
      expect(raw).to.match(/," [^"]+@[^"]+",/);
      const padded = tables['identities.csv'].rows.filter((r) => r.email !== r.email.trim());
      expect(padded.length).to.be.greaterThan(0);
      const orders = await readFile(join(summary.outDir, 'orders.csv'), 'utf8');
      expect(orders).to.match(/,"\d*O*[\dO]*,[\dO]{2}",EUR,/);
    });
  });

  describe('identities', function () {
    it('maps every customer from the web shop, and some from the app and store tills', function () {
      const identities = tables['identities.csv'].rows;
      const bySource = groupBy(identities, (r) => r.source);
      expect([...bySource.keys()].sort()).to.deep.equal(['app', 'pos', 'web']);
      const webCustomers = new Set(bySource.get('web')!.map((r) => r.customer_id));
      for (const c of tables['customers.csv'].rows) expect(webCustomers.has(c.customer_id)).to.equal(true);
      expect(bySource.get('app')!.length / 20_000).to.be.within(0.3, 0.4);
      expect(bySource.get('pos')!.length / 20_000).to.be.within(0.2, 0.4);
    });

    it('holds the everyday mess: emails as typed, unlinked app accounts, second loyalty cards, repeated syncs', function () {
      const identities = tables['identities.csv'].rows;
      const canonical = new Map(tables['customers.csv'].rows.map((c) => [c.customer_id, c.email]));
      const typedDifferently = cleanRows('identities.csv').filter(
        (r) => r.source !== 'web' && r.email !== '' && r.customer_id !== '' && r.email !== canonical.get(r.customer_id),
      );
      expect(typedDifferently.length).to.be.greaterThan(1000);
      for (const r of typedDifferently) expect(r.email.trim().toLowerCase()).to.equal(canonical.get(r.customer_id));
      expect(identities.filter((r) => r.source === 'app' && r.customer_id === '').length).to.be.greaterThan(500);
      const cardsPerCustomer = groupBy(
        identities.filter((r) => r.source === 'pos'),
        (r) => r.customer_id,
      );
      const withTwoCards = [...cardsPerCustomer.values()].filter((cards) => new Set(cards.map((c) => c.external_id)).size > 1);
      expect(withTwoCards.length).to.be.greaterThan(200);
      const rowTexts = identities.map((r) => JSON.stringify(r));
      expect(new Set(rowTexts).size).to.be.lessThan(rowTexts.length);
    });
  });

  describe('determinism', function () {
    async function bytesOf(dir: string): Promise<Record<string, string>> {
      const files: Record<string, string> = {};
      for (const fileName of Object.keys(EXPECTED_HEADERS)) files[fileName] = await readFile(join(dir, fileName), 'utf8');
      return files;
    }

    it('writes byte-identical files for the same options, and different ones for another seed', async function () {
      const first = await run('same-a', { customers: 3000, seed: 99 });
      const second = await run('same-b', { customers: 3000, seed: 99 });
      const other = await run('other', { customers: 3000, seed: 100 });
      const [a, b, c] = await Promise.all([bytesOf(first.outDir), bytesOf(second.outDir), bytesOf(other.outDir)]);
      for (const fileName of Object.keys(EXPECTED_HEADERS)) {
        expect(a[fileName] === b[fileName], `${fileName} same seed`).to.equal(true);
        expect(a[fileName] === c[fileName], `${fileName} other seed`).to.equal(false);
      }
    });

    it('keeps behaviour independent of the dirt: without dirt the ground truth is the same', async function () {
      const clean = await run('clean', {
        customers: 3000,
        seed: 99,
        dirtyRates: Object.fromEntries(DIRTY_KINDS.map((kind) => [kind, 0])),
      });
      const dirty = await bytesOf(join(workDir, 'same-a'));
      const cleanFiles = await bytesOf(clean.outDir);
      expect(cleanFiles['ground_truth.csv'] === dirty['ground_truth.csv']).to.equal(true);
      expect(cleanFiles['customers.csv'] === dirty['customers.csv']).to.equal(true);
      expect(cleanFiles['order_items.csv'] === dirty['order_items.csv']).to.equal(true);
      expect(clean.files.dirtyRows.rows).to.equal(0);
      for (const kind of DIRTY_KINDS) expect(clean.dirty[kind].injected, kind).to.equal(0);
    });
  });

  describe('dirty data', function () {
    it('injects each kind at its configured rate (binomial tolerance)', function () {
      for (const kind of DIRTY_KINDS) {
        const { injected, eligible } = summary.dirty[kind];
        const expected = eligible * 0.005;
        expect(eligible, kind).to.be.greaterThan(10_000);
        expect(Math.abs(injected - expected), `${kind}: ${injected} of ${eligible}`).to.be.at.most(4.5 * Math.sqrt(expected * 0.995) + 2);
      }
      const listedPerKind = groupBy(tables['dirty_rows.csv'].rows, (r) => r.kind);
      for (const kind of DIRTY_KINDS) expect(listedPerKind.get(kind)?.length, kind).to.equal(summary.dirty[kind].injected);
    });

    /** What a strict reader finds wrong with each row, by `${file}:${row}`. */
    function detectDirt(): Map<string, string> {
      const found = new Map<string, string>();
      for (const [fileName, amountColumn, timeColumn] of [
        ['orders.csv', 'amount', 'ordered_at'],
        ['returns.csv', 'amount', 'returned_at'],
        ['sessions.csv', null, 'started_at'],
      ] as const) {
        const seen = new Map<string, string>();
        tables[fileName].rows.forEach((row, i) => {
          const key = `${fileName}:${i + 1}`;
          const id = Object.values(row)[0];
          if (seen.has(id)) {
            expect(JSON.stringify(row), `${key} duplicates an earlier row exactly`).to.equal(seen.get(id));
            found.set(key, 'duplicate_row');
          } else if (amountColumn && cents(row[amountColumn]) === null) found.set(key, 'malformed_amount');
          else if (row[timeColumn] === '') found.set(key, 'missing_timestamp');
          else if (Date.parse(row[timeColumn]) >= EXPORT_MS) found.set(key, 'future_timestamp');
          seen.set(id, JSON.stringify(row));
        });
      }
      // A conflict maps an external id or an email to a different customer than it belongs to.
      const identities = tables['identities.csv'].rows;
      const ownerOfEmail = new Map<string, string>();
      for (const r of identities) {
        if (r.source === 'web' && !ownerOfEmail.has(r.email)) ownerOfEmail.set(r.email, r.customer_id);
      }
      const ownerOfExternalId = new Map<string, string>();
      identities.forEach((r, i) => {
        if (r.customer_id === '') return;
        const externalKey = `${r.source}|${r.external_id}`;
        const emailOwner = r.email === '' ? undefined : ownerOfEmail.get(r.email.trim().toLowerCase());
        const idOwner = ownerOfExternalId.get(externalKey);
        if ((emailOwner !== undefined && emailOwner !== r.customer_id) || (idOwner !== undefined && idOwner !== r.customer_id)) {
          found.set(`identities.csv:${i + 1}`, 'conflicting_id');
        } else if (idOwner === undefined) ownerOfExternalId.set(externalKey, r.customer_id);
      });
      return found;
    }

    it('lists exactly the rows it spoiled, and how, in dirty_rows.csv', function () {
      const found = detectDirt();
      expect(found.size).to.be.greaterThan(1000);
      expect([...found.entries()].sort()).to.deep.equal([...listedDirt.entries()].sort());
      for (const r of tables['dirty_rows.csv'].rows) {
        expect(r.file).to.be.oneOf(['orders.csv', 'returns.csv', 'sessions.csv', 'identities.csv']);
        if (r.kind !== 'duplicate_row') expect(r.original_value, `${r.file}:${r.row}`).to.not.equal('');
      }
    });

    it('keeps the spoiled rows otherwise intact: original values are recorded', function () {
      const orders = tables['orders.csv'].rows;
      const items = groupBy(tables['order_items.csv'].rows, (i) => i.order_id);
      for (const r of tables['dirty_rows.csv'].rows.filter((d) => d.file === 'orders.csv' && d.kind === 'malformed_amount')) {
        const order = orders[Number(r.row) - 1];
        const gross = items.get(order.order_id)!.reduce((sum, i) => sum + Number(i.quantity) * cents(i.unit_price)!, 0);
        expect(gross - cents(order.discount_amount)!).to.equal(cents(r.original_value));
      }
    });
  });

  describe('orders, items and returns', function () {
    it('makes every clean order add up: amount = sum of quantity × unit_price - discount_amount, to the cent', function () {
      const items = groupBy(tables['order_items.csv'].rows, (i) => i.order_id);
      const orderIds = new Set(tables['orders.csv'].rows.map((o) => o.order_id));
      for (const orderId of items.keys()) expect(orderIds.has(orderId), orderId).to.equal(true);
      const unbalanced = cleanRows('orders.csv').filter((order) => {
        const lines = items.get(order.order_id);
        if (!lines) return true;
        const gross = lines.reduce((sum, i) => sum + Number(i.quantity) * cents(i.unit_price)!, 0);
        const discount = cents(order.discount_amount)!;
        return gross - discount !== cents(order.amount) || discount < 0 || discount > gross * 0.4 + 1;
      });
      expect(unbalanced).to.deep.equal([]);
    });

    it('ties returns to their orders: same customer, after the order, at most the amount; full refunds mark the order', function () {
      const orders = new Map(cleanRows('orders.csv').map((o) => [o.order_id, o]));
      const returns = cleanRows('returns.csv');
      expect(returns.length).to.be.greaterThan(1000);
      for (const r of returns) {
        const order = orders.get(r.order_id);
        if (!order) continue; // its order row was spoiled
        expect(r.customer_id).to.equal(order.customer_id);
        expect(order.status).to.not.equal('cancelled');
        expect(Date.parse(r.returned_at)).to.be.greaterThan(Date.parse(order.ordered_at));
        expect(cents(r.amount)).to.be.at.most(cents(order.amount)!);
        if (order.status === 'refunded') expect(r.amount).to.equal(order.amount);
      }
      const refunded = [...orders.values()].filter((o) => o.status === 'refunded');
      const returned = new Set(tables['returns.csv'].rows.map((r) => r.order_id));
      for (const o of refunded) expect(returned.has(o.order_id), o.order_id).to.equal(true);
    });

    it('starts an online order with a session shortly before it', function () {
      const sessions = groupBy(cleanRows('sessions.csv'), (s) => s.customer_id);
      const online = cleanRows('orders.csv').filter((o) => o.channel !== 'pos');
      const withSession = online.filter((order) => {
        const at = Date.parse(order.ordered_at);
        return (sessions.get(order.customer_id) ?? []).some(
          (s) => Date.parse(s.started_at) < at && Date.parse(s.started_at) >= at - 41 * 60_000,
        );
      });
      expect(withSession.length / online.length).to.be.greaterThan(0.97);
    });
  });

  describe('export boundary and ground truth', function () {
    it('ingests nothing after the export except rows spoiled with a future timestamp', function () {
      const checks: [string, string][] = [
        ['customers.csv', 'signup_at'],
        ['orders.csv', 'ordered_at'],
        ['returns.csv', 'returned_at'],
        ['sessions.csv', 'started_at'],
      ];
      for (const [fileName, column] of checks) {
        tables[fileName].rows.forEach((row, i) => {
          const key = `${fileName}:${i + 1}`;
          if (row[column] !== '' && Date.parse(row[column]) >= EXPORT_MS) expect(listedDirt.get(key), key).to.equal('future_timestamp');
        });
      }
    });

    it('keeps the ground truth for every customer in its own file, consistent with itself', function () {
      expect(groundTruth.size).to.equal(20_000);
      const horizonEnd = EXPORT_MS + 365 * DAY_MS;
      for (const gt of groundTruth.values()) {
        const futureOrders = Number(gt.future_orders);
        expect(gt.alive_at_export).to.be.oneOf(['true', 'false']);
        expect(gt.first_future_order_at === '', gt.customer_id).to.equal(futureOrders === 0);
        if (gt.first_future_order_at !== '') {
          expect(Date.parse(gt.first_future_order_at)).to.be.within(EXPORT_MS, horizonEnd - 1);
        }
        if (gt.dropout_at === '') expect(gt.alive_at_export).to.equal('true');
        else expect(Date.parse(gt.dropout_at) >= EXPORT_MS).to.equal(gt.alive_at_export === 'true');
        if (gt.alive_at_export === 'false') expect(futureOrders).to.equal(0);
        expect(cents(gt.future_net_revenue), gt.customer_id).to.not.equal(null);
      }
      const alive = [...groundTruth.values()].filter((gt) => gt.alive_at_export === 'true').length;
      expect(alive / groundTruth.size).to.be.within(0.35, 0.75);
    });

    it('has no customer order after their dropout and none before their signup', function () {
      const signups = new Map(tables['customers.csv'].rows.map((c) => [c.customer_id, Date.parse(c.signup_at)]));
      for (const order of cleanRows('orders.csv')) {
        const at = Date.parse(order.ordered_at);
        expect(at, order.order_id).to.be.at.least(signups.get(order.customer_id)!);
        const dropout = groundTruth.get(order.customer_id)!.dropout_at;
        if (dropout !== '') expect(at, order.order_id).to.be.at.most(Date.parse(dropout));
      }
    });
  });

  describe('customer types', function () {
    /** Clean history orders per customer, by latent type. */
    function ordersByType(): Map<string, Row[][]> {
      const ordersOf = groupBy(cleanRows('orders.csv'), (o) => o.customer_id);
      const byType = new Map<string, Row[][]>();
      for (const c of tables['customers.csv'].rows) {
        const type = groundTruth.get(c.customer_id)!.latent_type;
        if (!byType.has(type)) byType.set(type, []);
        byType.get(type)!.push(ordersOf.get(c.customer_id) ?? []);
      }
      return byType;
    }

    it('draws the default mix of types', function () {
      const counts = groupBy([...groundTruth.values()], (gt) => gt.latent_type);
      const expected = { loyal: 0.15, deal_seeker: 0.2, declining: 0.15, one_timer: 0.3, seasonal: 0.12, big_spender: 0.08 };
      for (const [type, share] of Object.entries(expected)) {
        expect(counts.get(type)!.length / 20_000, type).to.be.within(share - 0.015, share + 0.015);
      }
    });

    it('gives one-timers exactly one order, ever', function () {
      const allOrders = groupBy(tables['orders.csv'].rows, (o) => o.customer_id);
      const oneTimers = [...groundTruth.values()].filter((gt) => gt.latent_type === 'one_timer');
      let exactlyOne = 0;
      for (const gt of oneTimers) {
        const history = new Set((allOrders.get(gt.customer_id) ?? []).map((o) => o.order_id)).size;
        expect(history + Number(gt.future_orders), gt.customer_id).to.be.at.most(1);
        if (history === 1) exactlyOne++;
        expect(gt.alive_at_export === 'true').to.equal(history === 0);
      }
      expect(exactlyOne / oneTimers.length).to.be.greaterThan(0.98);
    });

    it('makes loyal customers buy most often and big spenders spend most per order', function () {
      const byType = ordersByType();
      const perCustomer = (type: string): number => mean(byType.get(type)!.map((orders) => orders.length));
      expect(perCustomer('loyal')).to.be.greaterThan(1.6 * perCustomer('deal_seeker'));
      expect(perCustomer('loyal')).to.be.greaterThan(1.6 * perCustomer('declining'));
      expect(perCustomer('deal_seeker')).to.be.greaterThan(2 * perCustomer('one_timer'));
      const orderValue = (type: string): number =>
        mean(
          byType
            .get(type)!
            .flat()
            .map((o) => cents(o.amount)!),
        );
      for (const type of ['loyal', 'deal_seeker', 'declining', 'one_timer', 'seasonal']) {
        expect(orderValue('big_spender'), type).to.be.greaterThan(2.5 * orderValue(type));
      }
    });

    it('makes deal seekers use discounts and buy in sales', function () {
      const byType = ordersByType();
      const discounted = (type: string): number =>
        mean(
          byType
            .get(type)!
            .flat()
            .map((o) => (o.discount_amount === '0.00' ? 0 : 1)),
        );
      expect(discounted('deal_seeker')).to.be.greaterThan(0.6);
      expect(discounted('deal_seeker')).to.be.greaterThan(3 * discounted('loyal'));
      // January sale: early January holds many more deal-seeker orders than loyal ones.
      const inJanuarySale = (type: string): number =>
        mean(
          byType
            .get(type)!
            .flat()
            .map((o) => (/^\d{4}-01-(0\d|1[0-3])/.test(o.ordered_at) ? 1 : 0)),
        );
      expect(inJanuarySale('deal_seeker')).to.be.greaterThan(2 * inJanuarySale('loyal'));
    });

    it('concentrates seasonal customers in their season and makes declining customers fade', function () {
      const byType = ordersByType();
      const busiestQuarterShare = (type: string): number =>
        mean(
          byType
            .get(type)!
            .filter((orders) => orders.length >= 4)
            .map((orders) => {
              const months = [...groupBy(orders, (o) => o.ordered_at.slice(5, 7)).values()].map((g) => g.length);
              return (
                months
                  .sort((a, b) => b - a)
                  .slice(0, 3)
                  .reduce((s, n) => s + n, 0) / orders.length
              );
            }),
        );
      expect(busiestQuarterShare('seasonal')).to.be.greaterThan(busiestQuarterShare('loyal') + 0.15);

      const signups = new Map(tables['customers.csv'].rows.map((c) => [c.customer_id, Date.parse(c.signup_at)]));
      const firstHalfShare = (type: string): number =>
        mean(
          byType
            .get(type)!
            .filter((orders) => orders.length >= 4)
            .map((orders) => {
              const signup = signups.get(orders[0].customer_id)!;
              const middle = (signup + EXPORT_MS) / 2;
              return orders.filter((o) => Date.parse(o.ordered_at) < middle).length / orders.length;
            }),
        );
      expect(firstHalfShare('declining')).to.be.greaterThan(firstHalfShare('loyal') + 0.1);
      const aliveShare = (type: string): number =>
        mean([...groundTruth.values()].filter((gt) => gt.latent_type === type).map((gt) => (gt.alive_at_export === 'true' ? 1 : 0)));
      expect(aliveShare('loyal')).to.be.greaterThan(aliveShare('declining') + 0.15);
    });

    it('thins out sessions in the months before a customer drops out', function () {
      const sessions = groupBy(cleanRows('sessions.csv'), (s) => s.customer_id);
      const signups = new Map(tables['customers.csv'].rows.map((c) => [c.customer_id, Date.parse(c.signup_at)]));
      let early = 0;
      let late = 0;
      for (const gt of groundTruth.values()) {
        if (gt.latent_type === 'one_timer' || gt.alive_at_export === 'true') continue;
        const dropout = Date.parse(gt.dropout_at);
        if (dropout - signups.get(gt.customer_id)! < 240 * DAY_MS) continue;
        for (const s of sessions.get(gt.customer_id) ?? []) {
          const before = dropout - Date.parse(s.started_at);
          if (before >= 0 && before < 45 * DAY_MS) late++;
          else if (before >= 180 * DAY_MS && before < 225 * DAY_MS) early++;
        }
      }
      expect(early).to.be.greaterThan(500);
      expect(late / early).to.be.lessThan(0.6);
    });

    it('follows a given type mix', async function () {
      const only = await run('one-timers', { customers: 500, seed: 5, typeMix: { one_timer: 1 } });
      const truth = (await readTable(only.outDir, 'ground_truth.csv')).rows;
      expect(new Set(truth.map((gt) => gt.latent_type))).to.deep.equal(new Set(['one_timer']));
    });

    it('scales how often customers buy, and nothing else about them', async function () {
      const base = await run('rate-1', { customers: 800, seed: 6, typeMix: { loyal: 1 } });
      const doubled = await run('rate-2', { customers: 800, seed: 6, typeMix: { loyal: 1 }, purchaseRateScale: 2 });
      // The same customers, types, signups and dropouts: the scale changes no draw.
      expect(await readFile(join(doubled.outDir, 'customers.csv'), 'utf8')).to.equal(
        await readFile(join(base.outDir, 'customers.csv'), 'utf8'),
      );
      const truthOf = async (dir: string) => (await readTable(dir, 'ground_truth.csv')).rows;
      const [one, two] = [await truthOf(base.outDir), await truthOf(doubled.outDir)];
      expect(two.map((r) => [r.customer_id, r.latent_type, r.dropout_at])).to.deep.equal(
        one.map((r) => [r.customer_id, r.latent_type, r.dropout_at]),
      );
      two.forEach((r, i) => expect(Number(r.purchases_per_year)).to.be.closeTo(2 * Number(one[i]!.purchases_per_year), 0.002));
      // Repeat orders about double (each customer's first order is not a repeat).
      const repeats = (s: GenerateSummary) => s.files.orders.rows - s.customers;
      expect(repeats(doubled) / repeats(base)).to.be.within(1.8, 2.2);
    });
  });

  describe('session modes', function () {
    const TRANSACTION_FILES = ['customers.csv', 'identities.csv', 'orders.csv', 'order_items.csv', 'returns.csv', 'ground_truth.csv'];

    async function bytesOf(dir: string, fileNames: string[]): Promise<Record<string, string>> {
      const files: Record<string, string> = {};
      for (const fileName of fileNames) files[fileName] = await readFile(join(dir, fileName), 'utf8');
      return files;
    }

    /** dirty_rows.csv without the lines about sessions.csv. */
    async function dirtOutsideSessions(dir: string): Promise<string> {
      const lines = (await readFile(join(dir, 'dirty_rows.csv'), 'utf8')).split('\n');
      return lines.filter((line) => !line.startsWith('sessions.csv,')).join('\n');
    }

    /**
     * How sessions behave around the dropout of customers who dropped out before the export after at least a year
     * with the shop (one-timers aside), from sessions.csv and ground_truth.csv: the share whose session count in the
     * 90 days before dropout fell below half their 90-day average over the 270 days before that (among those with at
     * least three sessions then), the pooled ratio of those two rates, and the share of all drop-outs with a session
     * more than 30 days after their dropout.
     */
    function sessionSignal(shopTables: Record<string, Table>) {
      const signups = new Map(shopTables['customers.csv'].rows.map((c) => [c.customer_id, Date.parse(c.signup_at)]));
      const sessions = new Map<string, number[]>();
      for (const s of shopTables['sessions.csv'].rows) {
        const at = Date.parse(s.started_at);
        if (s.started_at === '' || at >= EXPORT_MS) continue; // spoiled timestamps
        if (!sessions.has(s.customer_id)) sessions.set(s.customer_id, []);
        sessions.get(s.customer_id)!.push(at);
      }
      let measured = 0;
      let fellByHalf = 0;
      let lastTotal = 0;
      let baseTotal = 0;
      let dropouts = 0;
      let browsingAfter = 0;
      for (const gt of shopTables['ground_truth.csv'].rows) {
        if (gt.alive_at_export !== 'false') continue;
        const dropout = Date.parse(gt.dropout_at);
        const times = sessions.get(gt.customer_id) ?? [];
        dropouts++;
        if (times.some((t) => t > dropout + 30 * DAY_MS)) browsingAfter++;
        if (gt.latent_type === 'one_timer' || dropout - signups.get(gt.customer_id)! < 360 * DAY_MS) continue;
        const last = times.filter((t) => t < dropout && t >= dropout - 90 * DAY_MS).length;
        const base = times.filter((t) => t < dropout - 90 * DAY_MS && t >= dropout - 360 * DAY_MS).length;
        lastTotal += last;
        baseTotal += base;
        if (base < 3) continue;
        measured++;
        if (last < (0.5 * base) / 3) fellByHalf++;
      }
      return {
        measured,
        fellByHalfShare: fellByHalf / measured,
        pooledRatio: lastTotal / (baseTotal / 3),
        browsingAfterShare: browsingAfter / dropouts,
      };
    }

    it('writes no sessions file in transactions-only mode, and every other file as the default mode does', async function () {
      const full = await run('modes-all', { customers: 3000, seed: 99 });
      const none = await run('modes-none', { customers: 3000, seed: 99, sessions: 'none' });
      expect(full.files.sessions?.rows).to.be.greaterThan(10_000);
      expect(none.files.sessions).to.equal(undefined);
      expect(none.sessions).to.equal('none');
      expect(await readdir(none.outDir)).to.not.include('sessions.csv');
      const [a, b] = await Promise.all([bytesOf(full.outDir, TRANSACTION_FILES), bytesOf(none.outDir, TRANSACTION_FILES)]);
      for (const fileName of TRANSACTION_FILES) expect(a[fileName] === b[fileName], fileName).to.equal(true);
      expect(await dirtOutsideSessions(none.outDir)).to.equal(await dirtOutsideSessions(full.outDir));
      expect(none.files.orders.rows).to.equal(full.files.orders.rows);
    });

    it('removes a sessions file left in the folder by an earlier run', async function () {
      await run('modes-reused', { customers: 200, seed: 7 });
      expect(await readdir(join(workDir, 'modes-reused'))).to.include('sessions.csv');
      await run('modes-reused', { customers: 200, seed: 7, sessions: 'none' });
      expect(await readdir(join(workDir, 'modes-reused'))).to.not.include('sessions.csv');
    });

    it('gives byte-identical files for the same options and seed in each mode; the realistic signal changes only sessions', async function () {
      const allFiles = Object.keys(EXPECTED_HEADERS);
      const withoutSessions = allFiles.filter((f) => f !== 'sessions.csv');
      const realisticA = await run('realistic-a', { customers: 3000, seed: 99, signal: 'realistic' });
      const realisticB = await run('realistic-b', { customers: 3000, seed: 99, signal: 'realistic' });
      const noneA = await run('none-a', { customers: 3000, seed: 99, sessions: 'none', signal: 'realistic' });
      const noneB = await run('none-b', { customers: 3000, seed: 99, sessions: 'none', signal: 'realistic' });
      const strong = await run('strong', { customers: 3000, seed: 99, signal: 'strong' });
      const [ra, rb, na, nb, st] = await Promise.all([
        bytesOf(realisticA.outDir, allFiles),
        bytesOf(realisticB.outDir, allFiles),
        bytesOf(noneA.outDir, withoutSessions),
        bytesOf(noneB.outDir, withoutSessions),
        bytesOf(strong.outDir, allFiles),
      ]);
      for (const fileName of allFiles) expect(ra[fileName] === rb[fileName], `${fileName} realistic`).to.equal(true);
      for (const fileName of withoutSessions) expect(na[fileName] === nb[fileName], `${fileName} no sessions`).to.equal(true);
      for (const fileName of TRANSACTION_FILES) expect(ra[fileName] === st[fileName], `${fileName} realistic vs strong`).to.equal(true);
      expect(ra['sessions.csv'] === st['sessions.csv']).to.equal(false);
    });

    it('makes sessions foretell dropout far less cleanly with the realistic signal', async function () {
      const realistic = await run('realistic-signal', { customers: 20_000, seed: 1234, signal: 'realistic' });
      const strong = sessionSignal(tables);
      const loose = sessionSignal(await readAll(realistic.outDir));
      const report = `strong ${JSON.stringify(strong)}, realistic ${JSON.stringify(loose)}`;
      expect(strong.measured, report).to.be.greaterThan(500);
      expect(loose.measured, report).to.be.greaterThan(500);
      // Strong: a linear fade over the 90 days before dropout (measured 0.56 of drop-outs fell by half, pooled rate
      // 0.55). Realistic: near the 0.40 that Poisson noise and rhythms alone give (measured 0.41, pooled 0.87).
      expect(strong.fellByHalfShare - loose.fellByHalfShare, report).to.be.greaterThan(0.08);
      expect(strong.pooledRatio, report).to.be.lessThan(0.65);
      expect(loose.pooledRatio, report).to.be.greaterThan(0.8);
      // Some keep browsing although they never buy again; with the strong signal browsing ends at the dropout.
      expect(strong.browsingAfterShare, report).to.equal(0);
      expect(loose.browsingAfterShare, report).to.be.within(0.25, 0.6);
    });
  });

  describe('options and progress', function () {
    const invalid: [string, Omit<GenerateOptionsInput, 'outDir'>, string][] = [
      ['customers 0', { customers: 0 }, 'customers'],
      ['fractional customers', { customers: 2.5 }, 'customers'],
      ['negative seed', { seed: -1 }, 'seed'],
      ['impossible date', { asOf: '2026-02-30' }, 'asOf'],
      ['zero horizon', { horizonDays: 0 }, 'horizonDays'],
      ['short history', { historyDays: 7 }, 'historyDays'],
      ['zero purchase rate scale', { purchaseRateScale: 0 }, 'purchaseRateScale'],
      ['purchase rate scale above 10', { purchaseRateScale: 11 }, 'purchaseRateScale'],
      ['lower-case currency', { currency: 'eur' }, 'currency'],
      ['unknown type', { typeMix: { vip: 1 } as never }, 'typeMix'],
      ['negative type weight', { typeMix: { loyal: -1 } }, 'typeMix.loyal'],
      ['all-zero mix', { typeMix: { loyal: 0 } }, 'typeMix'],
      ['rate above 1', { dirtyRates: { duplicate_row: 1.5 } }, 'dirtyRates.duplicate_row'],
      ['unknown dirt', { dirtyRates: { typo: 0.1 } as never }, 'dirtyRates'],
      ['rates summing above 1', { dirtyRates: { malformed_amount: 0.6, missing_timestamp: 0.6 } }, 'dirtyRates'],
      ['unknown sessions mode', { sessions: 'some' as never }, 'sessions'],
      ['unknown signal mode', { signal: 'weak' as never }, 'signal'],
    ];
    for (const [name, options, field] of invalid) {
      it(`rejects ${name}, naming ${field}`, async function () {
        const error = await run('invalid', options).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(ValidationError);
        expect((error as ValidationError).field).to.equal(field);
        expect((error as ValidationError).message).to.contain(field);
      });
    }

    it('reports progress up to the total', async function () {
      const calls: [number, number][] = [];
      await generateShop({ outDir: join(workDir, 'progress'), customers: 2500, seed: 3 }, (done, total) => calls.push([done, total]));
      expect(calls).to.deep.equal([
        [1000, 2500],
        [2000, 2500],
        [2500, 2500],
      ]);
    });
  });
});
