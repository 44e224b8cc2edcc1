import { expect } from 'chai';
import type { Knex } from 'knex';
import { createApiKey } from '../../access/api-keys';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { mulberry32 } from '../../lib/random';
import { impactCsv, policyImpact } from '../../monitoring/impact';
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

/**
 * A dozen customers with hand-picked recency, scores and outcomes, so every figure of the comparison with the recency
 * rule (no completed order for over 90 days at the evaluation's as-of) is known in advance.
 */
describe('impact against the rule-based baseline', () => {
  let t: TestDatabase;
  let versionId: number;
  const AS_OF = new Date(DECIDED.getTime() - DAY_MS);
  const now = new Date(DECIDED.getTime() + 200 * DAY_MS);
  // id, P(churn), CLV, days before as-of of the last completed order (null: none), arm, retained within the horizon.
  type Arm = 'treated' | 'control' | 'suppressed' | null;
  const customers: [string, number, string, number | null, Arm, boolean][] = [
    ['c01', 0.8, '100.00', 10, 'treated', true], //   rule no  → identified early; at risk 80.00
    ['c02', 0.6, '200.00', 200, 'treated', true], //  rule yes → both; 120.00
    ['c03', 0.5, '50.00', null, 'control', false], // rule yes (never bought) → both; 25.00
    ['c04', 0.4, '100.00', 30, 'control', true], //   rule no  → identified early; 40.00
    ['c05', 0.7, '10.00', 100, null, true], //        rule yes, not acted on, stayed anyway; 7.00
    ['c06', 0.1, '1000.00', 20, null, false], //      rule no, not acted on; 100.00
    ['c07', 0.3, '10.00', 90, null, false], //        exactly 90 days: rule no; 3.00
    ['c08', 0.9, '100.00', 300, 'suppressed', false], // rule yes; a suppressed action is not in the cohort; 90.00
    ['c10', 0.2, '100.00', null, 'treated', false], // rule yes → both; 20.00
    ['c11', 0.5, '100.00', 400, 'control', true], //  rule yes → both; 50.00
  ];

  before(async () => {
    t = await freshDatabase('impact_baseline');
    versionId = (await seedDefaultPolicy(t.db, { name: 'olivia', role: 'owner' })).versionId;
    const runId = await insertScoredCustomers(
      t.db,
      customers.map(([id, churn, clv]) => ({ id, churn, clv })),
      AS_OF,
    );
    // Scored in another run that no evaluation read: outside the population.
    await insertScoredCustomers(t.db, [{ id: 'c99', churn: 0.9, clv: '999.00' }], new Date(AS_OF.getTime() - 7 * DAY_MS));
    const [evaluation] = await t
      .db('policy_evaluations')
      .insert({
        version_id: versionId,
        policy_key: 'retention',
        scoring_run_id: runId,
        as_of: AS_OF,
        started_by: 'test',
        evaluated_at: DECIDED,
      })
      .returning<{ evaluation_id: string }[]>('evaluation_id');
    const orders: Record<string, unknown>[] = [];
    const order = (id: string, n: number, at: Date, status = 'completed') =>
      orders.push({ order_id: `${id}-${n}`, customer_id: id, ordered_at: at, amount: 10, currency: 'EUR', status });
    for (const [id, , , recency, arm, retained] of customers) {
      if (recency !== null) order(id, 1, new Date(AS_OF.getTime() - recency * DAY_MS));
      // A cancelled order is no purchase: it does not make c06..c11 recent.
      order(id, 2, new Date(AS_OF.getTime() - 5 * DAY_MS), 'cancelled');
      if (retained) order(id, 3, new Date(DECIDED.getTime() + 20 * DAY_MS));
      if (arm === null) continue;
      const [decision] = await t
        .db('decisions')
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
      await t.db('actions').insert({
        decision_id: decision!.decision_id,
        customer_id: id,
        policy_key: 'retention',
        version_id: versionId,
        action_type: 'retention_offer',
        campaign: 'test',
        incentive_amount: arm === 'treated' ? '5.00' : '0',
        expected_value: '1.00',
        holdout: arm === 'control',
        status: arm === 'control' ? 'holdout' : arm === 'treated' ? 'auto_approved' : 'suppressed',
        decided_at: DECIDED,
        expires_at: new Date(DECIDED.getTime() + 14 * DAY_MS),
        status_changed_at: DECIDED,
      });
    }
    await t.db('orders').insert(orders);
  });
  after(async () => {
    await t?.db.destroy();
  });

  it('compares the policy picks with the recency rule: counts, revenue at risk, identified early, untreated outcomes', async () => {
    const impact = await policyImpact(t.db, versionId, { horizonDays: 90, now });
    const b = impact.baseline;
    expect(b.rule).to.equal('No order for over 90 days');
    expect(b.population).to.equal(10);
    expect(b.policy).to.deep.equal({ customers: 6, revenueAtRisk: '335.00' });
    expect(b.rulePicks).to.deep.equal({ customers: 6, revenueAtRisk: '312.00' });
    expect(b.both).to.deep.equal({ customers: 4, revenueAtRisk: '215.00' });
    expect(b.identifiedEarly).to.deep.equal({ customers: 2, revenueAtRisk: '120.00' });
    expect(impact.revenueAtRiskIdentifiedEarly).to.equal('120.00');
    expect(b.ruleOnly).to.deep.equal({ customers: 2, revenueAtRisk: '97.00', retained: 1, retentionRate: 0.5 });
    // Also picked by the rule: treated c02 (stayed) and c10 (left), control c03 (left) and c11 (stayed): 1/2 vs 1/2.
    const also = b.effect.alsoPickedByRule;
    expect(also.treated).to.deep.equal({ customers: 2, retained: 1 });
    expect(also.control).to.deep.equal({ customers: 2, retained: 1 });
    expect(also.retention!.estimate).to.equal(0);
    // Wald: 1.96 × √(0.25/2 + 0.25/2) = 1.96 × 0.5.
    expect(also.retention!.lower).to.be.closeTo(-0.98, 0.001);
    expect(also.retention!.smallSample).to.equal(true);
    // Picked by the model only: one treated, one control: too few to compare.
    expect(b.effect.pickedByModelOnly.treated).to.deep.equal({ customers: 1, retained: 1 });
    expect(b.effect.pickedByModelOnly.retention).to.equal(null);
  });

  it('a different rule threshold moves customers between the groups', async () => {
    // Over 150 days: c05 (100) is no longer a rule pick, c02 (200) still is.
    const b = (await policyImpact(t.db, versionId, { horizonDays: 90, now, ruleThresholdDays: 150 })).baseline;
    expect(b.rule).to.equal('No order for over 150 days');
    expect(b.rulePicks).to.deep.equal({ customers: 5, revenueAtRisk: '305.00' });
    expect(b.ruleOnly).to.deep.equal({ customers: 1, revenueAtRisk: '90.00', retained: 0, retentionRate: 0 });
  });

  it('writes the comparison into the CSV', async () => {
    const lines = impactCsv(await policyImpact(t.db, versionId, { horizonDays: 90, now }))
      .trim()
      .split('\n');
    expect(lines).to.include('revenue_at_risk_identified_early,120.00,,,,,,');
    expect(lines).to.include('rule_picks (No order for over 90 days),6,312.00');
    expect(lines).to.include('rule_picks_not_acted_on,2,97.00,1,0.5');
    expect(lines.find((l) => l.startsWith('retention_rate_also_picked_by_rule,'))).to.match(
      /^retention_rate_also_picked_by_rule,0\.5,0\.5,0,/,
    );
  });
});
