import { expect } from 'chai';
import type { Knex } from 'knex';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { mulberry32 } from '../../lib/random';
import { policyImpact } from '../../monitoring/impact';
import { proportionSampleSize } from '../../monitoring/impact-statistics';
import { seedDefaultPolicy } from '../../policy/default-policy';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';
import { insertScoredCustomers } from '../support/scored-customers';

const DAY_MS = 86_400_000;
const DECIDED = new Date('2026-06-01T00:00:00Z');
const PER_GROUP = 2000;
// The true effect the data is drawn from: retention 55 % treated vs 40 % control; treated customers who return spend
// 60, control ones 50, so revenue per customer differs by 0.55 × 60 − 0.40 × 50 = 13.
const TRUE_RETENTION = { treated: 0.55, control: 0.4 };
const SPEND = { treated: 60, control: 50 };
const TRUE_REVENUE_EFFECT = 0.55 * 60 - 0.4 * 50;

/** A holdout of PER_GROUP treated and PER_GROUP control customers, decided on DECIDED, with orders drawn at random. */
async function constructHoldout(db: Knex, versionId: number) {
  const ids = Array.from({ length: 2 * PER_GROUP + 50 }, (_, i) => `h-${String(i).padStart(5, '0')}`);
  const runId = await insertScoredCustomers(
    db,
    ids.map((id) => ({ id, churn: 0.7, clv: '300.00' })),
    new Date(DECIDED.getTime() - DAY_MS),
  );
  const [evaluation] = await db('policy_evaluations')
    .insert({
      version_id: versionId,
      policy_key: 'retention',
      scoring_run_id: runId,
      as_of: DECIDED,
      started_by: 'test',
      evaluated_at: DECIDED,
    })
    .returning<{ evaluation_id: string }[]>('evaluation_id');
  const random = mulberry32(7);
  const orders: Record<string, unknown>[] = [];
  const actions: Record<string, unknown>[] = [];
  for (const [i, id] of ids.entries()) {
    // The last 50 were suppressed: neither treated nor control.
    const group = i >= 2 * PER_GROUP ? 'suppressed' : i % 2 === 0 ? 'treated' : 'control';
    const [decision] = await db('decisions')
      .insert({
        evaluation_id: evaluation!.evaluation_id,
        customer_id: id,
        version_id: versionId,
        scoring_run_id: runId,
        model_versions: '{}',
        facts: '{}',
        trace: '{}',
        decided_at: DECIDED,
      })
      .returning<{ decision_id: string }[]>('decision_id');
    actions.push({
      decision_id: decision!.decision_id,
      customer_id: id,
      policy_key: 'retention',
      version_id: versionId,
      action_type: 'retention_offer',
      campaign: 'test',
      incentive_amount: group === 'treated' ? '10.00' : '0',
      expected_value: '1.00',
      holdout: group === 'control',
      status: group === 'control' ? 'holdout' : group === 'treated' ? 'auto_approved' : 'suppressed',
      decided_at: DECIDED,
      expires_at: new Date(DECIDED.getTime() + 14 * DAY_MS),
      status_changed_at: DECIDED,
    });
    const order = (n: number, days: number, amount: number, status = 'completed') =>
      orders.push({
        order_id: `${id}-${n}`,
        customer_id: id,
        ordered_at: new Date(DECIDED.getTime() + days * DAY_MS),
        amount,
        currency: 'EUR',
        status,
      });
    order(0, -30, 999); // before the decision: not an outcome
    order(1, 120, 999); // after the horizon
    if (i % 7 === 0) order(2, 5, 999, 'cancelled'); // cancelled within the horizon
    if (group === 'suppressed') order(3, 10, 999);
    else if (random() < TRUE_RETENTION[group]) order(3, 10 + (i % 60), SPEND[group]);
  }
  await db('actions').insert(actions);
  for (let s = 0; s < orders.length; s += 2000) await db('orders').insert(orders.slice(s, s + 2000));
}

describe('impact of a policy version from its holdout', () => {
  let t: TestDatabase;
  let server: RunningServer;
  let versionId: number;
  const now = new Date(DECIDED.getTime() + 200 * DAY_MS);

  before(async () => {
    t = await freshDatabase('impact');
    versionId = (await seedDefaultPolicy(t.db, { name: 'olivia', role: 'owner' })).versionId;
    await constructHoldout(t.db, versionId);
    server = await startServer(createApp({ db: t.db, logger: memoryLogger().logger }), { port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await server?.close();
    await t?.db.destroy();
  });

  it('gives retention and revenue differences whose 95% intervals contain the true effects', async () => {
    const impact = await policyImpact(t.db, versionId, { horizonDays: 90, now });
    expect(impact.treated.customers).to.equal(PER_GROUP);
    expect(impact.control.customers).to.equal(PER_GROUP);
    const retention = impact.retention!;
    expect(retention.lower).to.be.below(0.15);
    expect(retention.upper).to.be.above(0.15);
    expect(retention.conclusive).to.equal(true);
    // About ±1.96 × √(0.55·0.45/2000 + 0.4·0.6/2000) ≈ ±0.031 wide on each side.
    expect(retention.upper - retention.lower).to.be.within(0.055, 0.07);
    const revenue = impact.revenuePerCustomer!;
    expect(revenue.lower).to.be.below(TRUE_REVENUE_EFFECT);
    expect(revenue.upper).to.be.above(TRUE_REVENUE_EFFECT);
    // Exact totals: the treated customers' orders summed in SQL equal their count × 60.
    expect(impact.treated.revenue).to.equal((impact.treated.retained * SPEND.treated).toFixed(2));
    expect(impact.incentiveCost).to.equal('20000.00');
    expect(impact.costPerIncrementalRetained).to.equal((20000 / (retention.estimate * PER_GROUP)).toFixed(2));
    expect(retention.sampleSizePerGroup).to.equal(proportionSampleSize(impact.treated.retentionRate!, impact.control.retentionRate!));
  });

  it('needs the textbook sample size to be conclusive (80% power, two-sided α 0.05)', () => {
    // 40 % vs 55 %: 173 per group (Fleiss, without continuity correction).
    expect(proportionSampleSize(0.55, 0.4)).to.equal(173);
    expect(proportionSampleSize(0.3, 0.3)).to.equal(null);
  });

  it('leaves out decisions whose horizon has not passed', async () => {
    const early = await policyImpact(t.db, versionId, { horizonDays: 90, now: new Date(DECIDED.getTime() + 30 * DAY_MS) });
    expect(early.treated.customers).to.equal(0);
    expect(early.retention).to.equal(null);
  });

  it('answers GET /impact for owner, finance and marketing, as JSON or CSV, and refuses others and bad input', async () => {
    const key = async (role: 'finance' | 'support') => (await createApiKey(t.db, { name: `${role}-key`, role, createdBy: 'test' })).key;
    const finance = await key('finance');
    const json = await call(server.url, 'GET', `/impact?policyVersion=${versionId}`, { key: finance });
    expect(json.status).to.equal(200);
    expect(json.body.treated.customers).to.equal(PER_GROUP);
    expect((await call(server.url, 'GET', `/impact?policyVersion=${versionId}`, { key: await key('support') })).status).to.equal(403);
    const bad = await call(server.url, 'GET', '/impact?policyVersion=abc', { key: finance });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal('policyVersion');
    expect((await call(server.url, 'GET', '/impact?policyVersion=999999', { key: finance })).status).to.equal(404);
    const csv = await fetch(`${server.url}/impact?policyVersion=${versionId}&format=csv`, {
      headers: { authorization: `Bearer ${finance}` },
    });
    expect(csv.status).to.equal(200);
    expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).to.include(`impact-policy-version-${versionId}.csv`);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).to.equal('measure,treated,control,difference,lower_95,upper_95,conclusive,sample_size_per_group');
    expect(lines[1]).to.equal(`customers,${PER_GROUP},${PER_GROUP},,,,,`);
    expect(lines.find((l) => l.startsWith('retention_rate,'))!.split(',')[6]).to.equal('true');
  });
});
