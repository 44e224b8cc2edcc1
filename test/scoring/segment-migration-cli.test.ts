import { expect } from 'chai';
import type { Knex } from 'knex';
import { mulberry32 } from '../../lib/random';
import { segmentMigration } from '../../models/segments/migration';
import { freshDatabase, type TestDatabase } from '../support/db';
import { cliStdout, runCli } from '../support/cli';

const SEGMENTS = ['Champions', 'At risk', 'Hibernating', null] as const;

/** A published run of seeded random segments (some customers without one) for `customers` ids; returns id → segment. */
async function insertRun(db: Knex, asOf: string, ids: string[], seed: number, published = true): Promise<Map<string, string>> {
  const random = mulberry32(seed);
  const [run] = await db('scoring_runs').insert(
    {
      as_of: asOf,
      run_key: `migration-${asOf}-${seed}`,
      status: published ? 'published' : 'running',
      published_at: published ? new Date() : null,
    },
    ['run_id'],
  );
  const rows = ids.map((customer_id) => ({
    run_id: run!.run_id,
    as_of: asOf,
    customer_id,
    churn_horizon_days: 90,
    clv_horizon_months: 12,
    confidence: 'high',
    segment: SEGMENTS[Math.floor(random() * SEGMENTS.length)]!,
  }));
  for (let i = 0; i < rows.length; i += 1000) await db('customer_risk_scores').insert(rows.slice(i, i + 1000));
  return new Map(rows.filter((r) => r.segment !== null).map((r) => [r.customer_id, r.segment as string]));
}

/** `foresight segment-migration` through the built binary: the matrix of the two published runs, counted in SQL. */
describe('foresight segment-migration (built binary)', () => {
  let t: TestDatabase;
  let earlier: Map<string, string>;
  let later: Map<string, string>;

  before(async () => {
    t = await freshDatabase('segment_migration_cli');
    const ids = Array.from({ length: 2400 }, (_, i) => `c-${i}`);
    await t.db('customers').insert(ids.map((customer_id) => ({ customer_id })));
    // Customers 2000+ arrive in the later run; 0–199 leave; a running run of the later date must be ignored.
    earlier = await insertRun(t.db, '2026-05-31T00:00:00.000Z', ids.slice(0, 2000), 1);
    later = await insertRun(t.db, '2026-06-30T00:00:00.000Z', ids.slice(200), 2);
    await insertRun(t.db, '2026-06-30T00:00:00.000Z', ids, 3, false);
  });

  after(async () => {
    await t?.db.destroy();
  });

  it('prints every cell of the matrix with its row share, customers without a segment left out', () => {
    const out = cliStdout(['segment-migration', '--from', '2026-05-31', '--to', '2026-06-30'], t.url);
    const expected = segmentMigration(earlier, later);
    expect(expected.customers).to.be.greaterThan(1500);
    const lines = out.split('\n');
    expected.from.forEach((label, i) => {
      const line = lines.find((l) => l.trimStart().startsWith(label));
      expect(line, `row ${label} in:\n${out}`).to.not.equal(undefined);
      const cells = expected.counts[i]!.map((n, j) => `${n.toLocaleString('en-US')} (${(100 * expected.shares[i]![j]!).toFixed(0)}%)`);
      let at = 0;
      for (const cell of cells) {
        const found = line!.indexOf(cell, at);
        expect(found, `${label}: ${cell} in order in "${line}"`).to.be.greaterThan(-1);
        at = found + cell.length;
      }
    });
    expect(out).to.contain(`${expected.customers.toLocaleString('en-US')} customers; each row's shares sum to 100%.`);
  });

  it('names the option whose date has no published run, and exits 2', () => {
    const run = runCli(['segment-migration', '--from', '2026-05-31', '--to', '2026-07-31'], t.url);
    expect(run.status).to.equal(2);
    expect(run.stderr).to.contain('No published scoring run as of 2026-07-31T00:00:00.000Z (--to)');
    const loose = runCli(['segment-migration', '--from', 'last tuesday', '--to', '2026-06-30'], t.url);
    expect(loose.status).to.equal(2);
    expect(loose.stderr).to.contain('--from');
  });
});
