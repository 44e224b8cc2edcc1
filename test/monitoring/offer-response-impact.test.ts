import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { demoOfferResponse } from '../../cli/commands/demo-offer-response';
import { ingestFile } from '../../ingestion/ingest-file';
import { experimentCustomers, untouchedCustomers } from '../../monitoring/experiment-customers';
import { policyImpact } from '../../monitoring/impact';
import { seedDefaultPolicy } from '../../policy/default-policy';
import { evaluatePolicy } from '../../policy/evaluate-policy';
import { freshDatabase, type TestDatabase } from '../support/db';
import { insertScoredCustomers } from '../support/scored-customers';

const DAY_MS = 86_400_000;
const DECIDED = new Date('2026-11-29T10:00:00Z');
const CUSTOMERS = 4_000;
const CHURN = 0.7;
const REFUSED = 200;

/**
 * The demo's holdout run for a simulated horizon, on the real path: the default policy evaluated on scored customers,
 * the response simulated under the assumption (P(churn) lowered by 30 % for the treated), written as an orders export
 * taken at the end of the horizon, ingested, and the impact measured from those rows.
 */
describe("the demo's simulated response to offers, measured as impact", function () {
  this.timeout(300_000);
  let t: TestDatabase;
  let versionId: number;
  let evaluationId: number;
  let lines: string[];
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-offer-response-'));

  before(async () => {
    t = await freshDatabase('offer_response');
    versionId = (await seedDefaultPolicy(t.db, { name: 'olivia', role: 'owner' })).versionId;
    await insertScoredCustomers(
      t.db,
      Array.from({ length: CUSTOMERS }, (_, i) => ({
        id: `C${String(i).padStart(7, '0')}`,
        churn: CHURN,
        clv: '300.00',
        clvLower: '200.00',
      })),
      new Date(DECIDED.getTime() - 30 * DAY_MS),
    );
    evaluationId = (await evaluatePolicy(t.db, 'retention', { name: 'test', role: null }, DECIDED)).evaluationId;
    // A person refused some of the offers: those customers are outside the experiment, yet still in the horizon.
    await t
      .db('actions')
      .whereIn('action_id', t.db('actions').select('action_id').where({ holdout: false }).orderBy('action_id').limit(REFUSED))
      .update({ status: 'rejected' });
    lines = await demoOfferResponse(t.db, evaluationId, outDir, async (files, notAfter) => [
      await ingestFile(t.db, { entity: 'orders', file: files.orders, notAfter: new Date(notAfter) }),
    ]);
  });
  after(async () => {
    await t?.db.destroy();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('ingests the simulated orders as real rows and measures an uplift whose interval holds the assumed one', async () => {
    const experiment = await experimentCustomers(t.db, evaluationId);
    const control = experiment.filter((c) => c.arm === 'control').length;
    expect(control, 'the default policy holds out about 5 %').to.be.above(100);
    // Without an explicit clock, outcomes are observed up to the simulated export: the end of the horizon.
    const impact = await policyImpact(t.db, versionId, { horizonDays: 90 });
    expect(impact.observedUntil).to.equal(new Date(DECIDED.getTime() + 90 * DAY_MS).toISOString());
    expect(impact.treated.customers + impact.control.customers).to.equal(experiment.length);
    expect(impact.control.customers).to.equal(control);
    // Assumed: retention 1 − 0.7 = 0.30 for control, 1 − 0.7 × 0.7 = 0.51 for the treated: a difference of 0.21.
    const retention = impact.retention!;
    expect(retention.lower).to.be.below(0.21);
    expect(retention.upper).to.be.above(0.21);
    expect(retention.conclusive).to.equal(true);
    const experimentIds = experiment.map((c) => c.customerId);
    const simulated = Number(
      (await t.db('orders').where('order_id', 'like', 'SIM-%').whereIn('customer_id', experimentIds).count({ n: '*' }))[0]!.n,
    );
    expect(simulated).to.equal(impact.treated.retained + impact.control.retained);
  });

  it('simulates every other customer the run scored too, at 1 − P(churn), so the export is complete', async () => {
    const untouched = await untouchedCustomers(t.db, evaluationId);
    const experiment = await experimentCustomers(t.db, evaluationId);
    const scored = Number((await t.db('customer_risk_scores').countDistinct({ n: 'customer_id' }))[0]!.n);
    expect(untouched.length + experiment.length).to.equal(scored);
    expect(untouched.length, 'the refused customers').to.equal(REFUSED);
    {
      const returned = Number(
        (
          await t
            .db('orders')
            .where('order_id', 'like', 'SIM-%')
            .whereIn(
              'customer_id',
              untouched.map((c) => c.customerId),
            )
            .count({ n: '*' })
        )[0]!.n,
      );
      const expected = untouched.reduce((sum, c) => sum + (1 - c.churnProbability), 0);
      // Binomial: within four standard deviations of the expected count.
      const sd = Math.sqrt(untouched.reduce((sum, c) => sum + c.churnProbability * (1 - c.churnProbability), 0));
      expect(Math.abs(returned - expected)).to.be.at.most(4 * sd + 1);
    }
  });

  it('says the assumption and what was measured', () => {
    expect(lines[0]).to.match(/^Assumption \(simulated, not measured\)/);
    expect(lines[0]).to.include('by 30%');
    expect(lines.join('\n')).to.match(/Measured from those rows: retention .* treated vs .* control, difference .*95% interval/);
  });

  it('running it again changes nothing (the same export is the same batch)', async () => {
    const before = Number((await t.db('orders').count({ n: '*' }))[0]!.n);
    await demoOfferResponse(t.db, evaluationId, outDir, async (files, notAfter) => [
      await ingestFile(t.db, { entity: 'orders', file: files.orders, notAfter: new Date(notAfter) }),
    ]);
    expect(Number((await t.db('orders').count({ n: '*' }))[0]!.n)).to.equal(before);
  });
});
