import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ingestFile } from '../../ingestion/ingest-file';
import { latestQualityGate, runQualityGate } from '../../quality/gate';
import { DEFAULT_QUALITY_RULES, loadQualityRules } from '../../quality/rules';
import { ValidationError } from '../../lib/errors';
import { runCli } from '../support/cli';
import { freshDatabase, type TestDatabase } from '../support/db';

describe('Data-quality gate (real Postgres)', function () {
  this.timeout(120_000);
  let t: TestDatabase;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-quality-'));
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const orders = (from: number, count: number, day: string, bad = 0) =>
    'order_id,customer_id,ordered_at,amount\n' +
    Array.from({ length: count }, (_, i) => `O${from + i},C${(from + i) % 50},${day}T10:00:00Z,${i < bad ? 'oops' : '12.50'}`).join('\n') +
    '\n';

  before(async () => {
    t = await freshDatabase('quality_gate');
    await ingestFile(t.db, {
      entity: 'customers',
      file: write('customers.csv', 'customer_id,email\nC1,a@x.io\n'),
      notAfter: new Date('2026-08-01'),
    });
    await ingestFile(t.db, {
      entity: 'orders',
      file: write('orders-1.csv', orders(0, 200, '2026-06-29')),
      notAfter: new Date('2026-08-01'),
    });
    await ingestFile(t.db, {
      entity: 'orders',
      file: write('orders-2.csv', orders(200, 210, '2026-06-30')),
      notAfter: new Date('2026-08-01'),
    });
  });
  after(async () => {
    await t?.db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const check = (gate: Awaited<ReturnType<typeof runQualityGate>>, source: string, name: string) =>
    gate.checks.find((c) => c.source === source && c.check === name)!;

  it('passes fresh, steady, clean sources and records one row per check per source', async () => {
    const gate = await runQualityGate(t.db, { asOf: new Date('2026-07-01'), gateRun: 'g1', rules: DEFAULT_QUALITY_RULES });
    expect(gate.status).to.equal('pass');
    expect(check(gate, 'orders', 'volume').value).to.be.closeTo(210 / 200, 1e-9);
    expect(check(gate, 'orders', 'freshness').value).to.be.closeTo(14 / 24, 1e-6);
    expect(await t.db('data_quality_checks').where({ gate_run: 'g1' }).count({ n: '*' })).to.deep.equal([{ n: '10' }]);
    // Re-running the same gate run replaces its verdicts (a retried activity records one).
    await runQualityGate(t.db, { asOf: new Date('2026-07-01'), gateRun: 'g1', rules: DEFAULT_QUALITY_RULES });
    expect(await t.db('data_quality_checks').where({ gate_run: 'g1' }).count({ n: '*' })).to.deep.equal([{ n: '10' }]);
  });

  it('fails on a stale source (fail action) and says which and why', async () => {
    const gate = await runQualityGate(t.db, { asOf: new Date('2026-07-10'), gateRun: 'g2', rules: DEFAULT_QUALITY_RULES });
    expect(gate.status).to.equal('fail');
    expect(check(gate, 'orders', 'freshness')).to.include({ status: 'fail', action: 'fail' });
    expect(check(gate, 'orders', 'freshness').detail).to.match(/9\.6 days before the as-of \(at most 3\)/);
  });

  it('warns on a sudden drop in volume and a high reject rate fails', async () => {
    await ingestFile(t.db, {
      entity: 'orders',
      file: write('orders-3.csv', orders(500, 40, '2026-07-01', 10)),
      notAfter: new Date('2026-08-01'),
    });
    const gate = await runQualityGate(t.db, { asOf: new Date('2026-07-02'), gateRun: 'g3', rules: DEFAULT_QUALITY_RULES });
    expect(check(gate, 'orders', 'volume')).to.include({ status: 'warn' });
    expect(check(gate, 'orders', 'volume').value).to.be.closeTo(30 / 205, 1e-9);
    expect(check(gate, 'orders', 'rejectRate')).to.include({ status: 'fail' });
    expect(gate.status).to.equal('fail');
    expect((await latestQualityGate(t.db))!.gateRun).to.equal('g3');
  });

  it('takes thresholds and actions from a rules file, and names a bad field', () => {
    const file = write('rules.json', JSON.stringify({ rejectRate: { max: 0.5, action: 'warn' } }));
    expect(loadQualityRules(file).rejectRate).to.deep.equal({ max: 0.5, action: 'warn' });
    expect(loadQualityRules(file).freshness).to.deep.equal(DEFAULT_QUALITY_RULES.freshness);
    const bad = write('bad.json', JSON.stringify({ volume: { minRatio: -1, maxRatio: 2, action: 'warn' } }));
    expect(() => loadQualityRules(bad)).to.throw(ValidationError, /volume\.minRatio/);
  });

  it('foresight quality (the built CLI): prints the checks, exit 1 on a failed gate, 0 when it passes', () => {
    const failed = runCli(['quality', '--as-of', '2026-07-10'], t.url);
    expect(failed.status, failed.stderr).to.equal(1);
    expect(failed.stdout)
      .to.match(/FAIL orders freshness/)
      .and.to.match(/: FAIL \(/);
    const relaxed = write(
      'relaxed.json',
      JSON.stringify({ rejectRate: { max: 0.5, action: 'warn' }, freshness: { maxDays: 30, action: 'fail' } }),
    );
    const passed = runCli(['quality', '--as-of', '2026-07-02'], t.url, { FORESIGHT_QUALITY_RULES: relaxed });
    expect(passed.status, passed.stderr).to.equal(0);
    expect(passed.stdout).to.match(/: WARN \(/);
    const shown = runCli(['quality'], t.url);
    expect(shown.stdout).to.match(/Gate manual-2026-07-02/);
    expect(runCli(['quality', '--as-of', '2026-02-30'], t.url).stderr).to.match(/no such calendar date/);
  });
});
