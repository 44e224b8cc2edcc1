import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { ingestFile } from '../../ingestion/ingest-file';
import type { EntityName } from '../../ingestion/entities';
import { projectRoot } from '../../lib/project-root';
import { freshDatabase, type TestDatabase } from '../support/db';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-ordering-'));
const NOT_AFTER = new Date('2026-07-01T00:00:00Z');
const ORDERS_HEADER = 'order_id,customer_id,ordered_at,amount,currency,discount_amount,channel,status';
const TABLES = ['customers', 'customer_identities', 'orders', 'order_items', 'returns', 'sessions', 'ingest_batches', 'ingest_rejects'];
/** Bookkeeping that differs between two correct loads: when and how often, and sequence numbers of rejects. */
const VOLATILE = new Set(['updated_at', 'first_ingested_at', 'last_ingested_at', 'times_ingested', 'reject_id']);

function write(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Every table's rows (volatile bookkeeping left out), in a stable order, as text. */
async function contents(db: Knex): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = await db(table).select();
    out[table] = rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => !VOLATILE.has(k))))).sort();
  }
  return out;
}

describe('ingestion order and interruption', () => {
  let t: TestDatabase;
  const ingest = (entity: EntityName, file: string, more: { exportedAt?: Date; force?: boolean } = {}) =>
    ingestFile(t.db, { entity, file, notAfter: NOT_AFTER, ...more });

  before(async () => {
    t = await freshDatabase('ordering');
  });
  after(() => t.db.destroy());

  it('an older file (by updated_at) ingested after a newer one changes nothing; --force applies it', async () => {
    const newer = write('orders-v2.csv', [
      `${ORDERS_HEADER},updated_at`,
      'U1,C2,2025-03-01T00:00:00Z,50.00,EUR,0,web,refunded,2025-06-02T00:00:00Z',
    ]);
    const older = write('orders-v1.csv', [
      `${ORDERS_HEADER},updated_at`,
      'U1,C1,2025-03-01T00:00:00Z,100.00,EUR,0,web,completed,2025-06-01T00:00:00Z',
      'U9,C1,2025-03-01T00:00:00Z,9.00,EUR,0,web,completed,2025-06-01T00:00:00Z',
    ]);
    expect(await ingest('orders', newer)).to.include({ accepted: 1, stale: 0 });
    const before = await t.db('orders').where({ order_id: 'U1' }).first();
    const s = await ingest('orders', older);
    // The older row is held back (stale, not an error); a key the newer file did not have is still new.
    expect(s).to.include({ accepted: 1, stale: 1, rejected: 0 });
    expect(await t.db('orders').where({ order_id: 'U1' }).first()).to.deep.equal(before);
    expect(before).to.include({ customer_id: 'C2', amount: '50.00', status: 'refunded' });
    expect((await t.db('ingest_batches').where({ batch_id: s.batchId }).first()).rows_stale).to.equal(1);

    const forced = write('orders-v1-forced.csv', [
      `${ORDERS_HEADER},updated_at,note`,
      'U1,C1,2025-03-01T00:00:00Z,100.00,EUR,0,web,completed,2025-06-01T00:00:00Z,correction',
    ]);
    expect(await ingest('orders', forced, { force: true })).to.include({ accepted: 1, stale: 0 });
    expect(await t.db('orders').where({ order_id: 'U1' }).first()).to.include({ customer_id: 'C1', amount: '100.00', status: 'completed' });
  });

  it('without updated_at, rows are ordered by the export time (--exported-at, else the file mtime)', async () => {
    const newer = write('customers-new.csv', ['customer_id,email,country', 'E1,e1@new.io,FR']);
    const older = write('customers-old.csv', ['customer_id,email,country', 'E1,e1@old.io,DE']);
    await ingest('customers', newer, { exportedAt: new Date('2025-06-02T00:00:00Z') });
    const s = await ingest('customers', older, { exportedAt: new Date('2025-06-01T00:00:00Z') });
    expect(s).to.include({ accepted: 0, stale: 1 });
    expect(await t.db('customers').where({ customer_id: 'E1' }).first()).to.include({ email_normalized: 'e1@new.io', country: 'FR' });

    // The file's modification time stands for the export time when none is given.
    const newerByMtime = write('sessions-new.csv', [
      'session_id,customer_id,started_at,duration_s,page_views,device',
      'M1,E1,2025-01-01,60,3,phone',
    ]);
    const olderByMtime = write('sessions-old.csv', [
      'session_id,customer_id,started_at,duration_s,page_views,device',
      'M1,E1,2025-01-01,10,1,desktop',
    ]);
    fs.utimesSync(newerByMtime, new Date('2025-06-02T00:00:00Z'), new Date('2025-06-02T00:00:00Z'));
    fs.utimesSync(olderByMtime, new Date('2025-06-01T00:00:00Z'), new Date('2025-06-01T00:00:00Z'));
    await ingest('sessions', newerByMtime);
    expect(await ingest('sessions', olderByMtime)).to.include({ stale: 1 });
    expect(await t.db('sessions').where({ session_id: 'M1' }).first()).to.include({ duration_s: 60, device: 'phone' });
    const batch = await t.db('ingest_batches').where({ file_name: 'sessions-old.csv' }).first();
    expect(new Date(batch.exported_at).toISOString()).to.equal('2025-06-01T00:00:00.000Z');
  });

  it('a chunk failing while another is in flight leaves the batch failed with its counts; re-running equals a clean load', async () => {
    const lines = [ORDERS_HEADER];
    for (let i = 0; i < 4000; i++) lines.push(`F${i},C${i % 30},2025-05-01T00:00:00Z,${(i % 97) + 0.5},EUR,0,web,completed`);
    lines.push('F-bad,C1,2025-13-01T00:00:00Z,1.00,EUR,0,web,completed');
    const file = write('orders-fail.csv', lines);
    const exportedAt = new Date('2025-06-01T00:00:00Z');
    const db = await freshDatabase('ordering_fail');
    const clean = await freshDatabase('ordering_fail_clean');
    try {
      // A real failure of the database in one chunk: a trigger refusing one order, in the third of eight chunks.
      await db.db.raw(`create function refuse_f1234() returns trigger language plpgsql as $$
        begin if new.order_id = 'F1234' then raise exception 'refused by the test'; end if; return new; end $$`);
      await db.db.raw('create trigger refuse_f1234 before insert on orders for each row execute function refuse_f1234()');
      const run = () => ingestFile(db.db, { entity: 'orders', file, notAfter: NOT_AFTER, exportedAt, chunkSize: 500 });
      let failed: unknown;
      await run().catch((err: unknown) => (failed = err));
      expect(String(failed)).to.contain('refused by the test');
      const batch = await db.db('ingest_batches').first();
      expect(batch.status).to.equal('failed');
      expect(batch.rows_accepted, 'chunks written before and beside the failing one are counted').to.be.at.least(1000);

      await db.db.raw('drop trigger refuse_f1234 on orders');
      const again = await run();
      expect(again).to.include({ resumedFrom: 'failed', accepted: 4000, rejected: 1 });
      await ingestFile(clean.db, { entity: 'orders', file, notAfter: NOT_AFTER, exportedAt, chunkSize: 500 });
      expect(await contents(db.db)).to.deep.equal(await contents(clean.db));
    } finally {
      await db.db.destroy();
      await clean.db.destroy();
    }
  });

  it('a process killed mid-file leaves the batch incomplete, not running; re-running equals a clean load', async function () {
    this.timeout(600_000);
    // The CLI under test is the built one: bring dist/ up to date (incremental, quick when it is).
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: projectRoot, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).to.equal(0);

    const lines = [`${ORDERS_HEADER},coupon`];
    for (let i = 0; i < 100_000; i++) {
      const bad = i % 1000 === 7;
      lines.push(`K${i},C${i % 5000},2025-05-01T00:00:00Z,${bad ? 'x' : (i % 997) + 0.25},EUR,0,web,completed,${i % 3 ? '' : 'SAVE'}`);
    }
    const file = write('orders-big.csv', lines);
    const exportedAt = '2025-06-01T00:00:00Z';
    const killed = await freshDatabase('ordering_killed');
    const clean = await freshDatabase('ordering_killed_clean');
    const cli = (url: string) =>
      spawn(process.execPath, [path.join(projectRoot, 'dist/cli/main.js'), 'ingest', 'orders', file, '--exported-at', exportedAt], {
        env: { ...process.env, DATABASE_URL: url, FORESIGHT_LOG_LEVEL: 'silent' },
        stdio: 'ignore',
      });
    try {
      const child = cli(killed.url);
      const exited = new Promise((resolve) => child.on('exit', resolve));
      // Mid-file: once some chunks are written and well before the last one.
      for (;;) {
        // Progress saved after a chunk is written (before this change the counts stayed 0 until the end).
        const batch = await killed.db('ingest_batches').first();
        if (batch && batch.rows_accepted > 0) break;
        if (child.exitCode !== null) expect.fail('the ingestion ended before it could be killed');
        await new Promise((r) => setTimeout(r, 25));
      }
      child.kill('SIGKILL');
      await exited;
      const left = await killed.db('ingest_batches').first();
      expect(left.status).to.equal('incomplete');
      expect(left.rows_accepted).to.be.within(1, 99_000);
      expect(Number((await killed.db('orders').count({ n: '*' }))[0]!.n)).to.be.below(99_900);

      const rerun = cli(killed.url);
      expect(await new Promise((resolve) => rerun.on('exit', resolve))).to.equal(0);
      const cleanRun = cli(clean.url);
      expect(await new Promise((resolve) => cleanRun.on('exit', resolve))).to.equal(0);
      expect((await killed.db('ingest_batches').first()).status).to.equal('completed');
      expect(await contents(killed.db)).to.deep.equal(await contents(clean.db));
    } finally {
      await killed.db.destroy();
      await clean.db.destroy();
    }
  });
});
