import { expect } from 'chai';
import type { Knex } from 'knex';
import { createDb } from '../../lib/db';
import { ConflictError, ForbiddenError } from '../../lib/errors';
import type { Actor } from '../../policy/actor';
import { DEFAULT_PARAMETERS, DEFAULT_POLICY_KEY, DEFAULT_RULES, seedDefaultPolicy } from '../../policy/default-policy';
import { evaluatePolicy } from '../../policy/evaluate-policy';
import { setKillSwitch } from '../../policy/kill-switch';
import { activate, activePolicyKeys, approve, createDraft, retire } from '../../policy/lifecycle';
import { addSuppression } from '../../policy/suppressions';
import { simulatePolicy } from '../../policy/simulate-policy';
import { servedScoringRun } from '../../scoring/scoring-runs';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db';
import { insertScoredCustomers, type ScoredCustomer } from '../support/scored-customers';

const alice: Actor = { name: 'alice', role: 'owner' };
const bob: Actor = { name: 'bob', role: 'owner' };

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** 120 customers across segments, risks and CLVs; a few low-confidence, one with a CLV interval. */
function population(): ScoredCustomer[] {
  const segments = ['At risk', "Can't lose", 'Champions', 'Loyal', 'New', 'Hibernating'];
  return Array.from({ length: 120 }, (_, i) => ({
    id: `cust-${String(i).padStart(3, '0')}`,
    churn: ((i * 37) % 100) / 100,
    clv: `${50 + ((i * 53) % 900)}.00`,
    segment: segments[i % segments.length]!,
    priceSensitive: i % 5 === 0,
    confidence: i % 17 === 0 ? ('low' as const) : ('high' as const),
    pAlive: i % 11 === 0 ? 0.1 : 0.8,
  }));
}

const recorded = async (db: Knex, evaluationId: number) =>
  (
    await db('actions as a')
      .join('decisions as d', 'd.decision_id', 'a.decision_id')
      .where('d.evaluation_id', evaluationId)
      .orderBy('a.customer_id')
      .select('a.customer_id', 'a.action_type', 'a.status', 'a.status_reason', 'a.incentive_amount', 'a.segment')
  ).map((r) => ({
    customerId: r.customer_id,
    actionType: r.action_type,
    status: r.status,
    statusReason: r.status_reason,
    incentive: r.incentive_amount,
    segment: r.segment,
  }));

describe('policies in Postgres: lifecycle, evaluation, simulation', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('policy');
    await insertScoredCustomers(t.db, population());
  });
  after(() => t.db.destroy());

  it('goes live only after another owner approved it, with one active version and every change audited', async () => {
    const draft = await createDraft(t.db, { policyKey: 'lifecycle', rules: DEFAULT_RULES, parameters: DEFAULT_PARAMETERS }, alice);
    expect(draft.status).to.equal('draft');
    expect(await rejection(activate(t.db, draft.versionId, bob))).to.be.instanceOf(ConflictError);
    expect(await rejection(approve(t.db, draft.versionId, alice))).to.be.instanceOf(ForbiddenError);
    expect(await rejection(approve(t.db, draft.versionId, { name: 'mia', role: 'marketing' }))).to.be.instanceOf(ForbiddenError);
    // Not even a direct write lets the author approve: the database checks four eyes too.
    expect(
      (
        await rejection(
          t
            .db('policy_versions')
            .where({ version_id: draft.versionId })
            .update({ status: 'approved', approved_by: 'alice', approved_at: t.db.fn.now() }),
        )
      ).message,
    ).to.match(/four_eyes/);
    expect((await rejection(t.db('policy_versions').where({ version_id: draft.versionId }).update({ status: 'active' }))).message).to.match(
      /live_needs_approval/,
    );

    await approve(t.db, draft.versionId, bob);
    const v1 = await activate(t.db, draft.versionId, bob);
    expect([v1.status, v1.approvedBy]).to.deep.equal(['active', 'bob']);

    const second = await createDraft(
      t.db,
      { policyKey: 'lifecycle', rules: DEFAULT_RULES, parameters: { ...DEFAULT_PARAMETERS, holdoutRate: 0.1 } },
      bob,
    );
    await approve(t.db, second.versionId, alice);
    await activate(t.db, second.versionId, alice);
    const statuses = await t.db('policy_versions').where({ policy_key: 'lifecycle' }).orderBy('version').pluck('status');
    expect(statuses).to.deep.equal(['retired', 'active']);
    expect((await rejection(t.db('policy_versions').where({ version_id: v1.versionId }).update({ status: 'active' }))).message).to.match(
      /policy_versions_one_active/,
    );
    await retire(t.db, second.versionId, alice, 'replaced by the default');

    const audit = await t.db('audit_log').where('target', 'like', 'policy:lifecycle:%').orderBy('id').select('actor', 'action', 'target');
    expect(audit.map((a) => `${a.actor} ${a.action} ${a.target}`)).to.deep.equal([
      'alice policy.draft_created policy:lifecycle:v1',
      'bob policy.approved policy:lifecycle:v1',
      'bob policy.activated policy:lifecycle:v1',
      'bob policy.draft_created policy:lifecycle:v2',
      'alice policy.approved policy:lifecycle:v2',
      'alice policy.activated policy:lifecycle:v2',
      'alice policy.retired policy:lifecycle:v2',
    ]);
  });

  it('does on activation exactly what its simulation showed, and records the trace of every action', async () => {
    await seedDefaultPolicy(t.db, bob);
    const tighter = await createDraft(
      t.db,
      {
        policyKey: DEFAULT_POLICY_KEY,
        rules: DEFAULT_RULES,
        parameters: {
          ...DEFAULT_PARAMETERS,
          holdoutRate: 0.1,
          budget: { period: 'month', overall: '300.00', segments: { 'At risk': '60.00' } },
        },
      },
      alice,
    );
    await addSuppression(t.db, { scope: 'customer', value: 'cust-003', reason: 'complaint open', expiresAt: null }, alice);
    await addSuppression(t.db, { scope: 'campaign', value: 'welcome-series', reason: 'paused for redesign', expiresAt: null }, alice);
    await t
      .db('contact_history')
      .insert({ customer_id: 'cust-002', action_type: 'retention_offer', contacted_at: new Date(Date.now() - 5 * 86_400_000) });

    const simulation = await simulatePolicy(t.db, tighter.versionId);
    const s = simulation.summary;
    expect(s.customersReached).to.be.greaterThan(20);
    expect(Number(s.totalIncentive)).to.be.at.most(300);
    expect(s.byStatus.holdout).to.be.greaterThan(0);
    expect(s.budget.leftOut).to.be.greaterThan(0);
    expect(simulation.leftOutByBudget.length).to.equal(Math.min(50, s.budget.leftOut));
    expect(s.budget.moreBudget.expectedValuePerUnit).to.be.greaterThan(0);
    expect(simulation.comparedWith!.changing.count + simulation.comparedWith!.losing.count).to.be.greaterThan(0);
    expect(simulation.actions.find((a) => a.customerId === 'cust-003')).to.include({ status: 'suppressed', statusReason: 'suppression' });

    await approve(t.db, tighter.versionId, bob);
    await activate(t.db, tighter.versionId, bob);
    const evaluation = await evaluatePolicy(t.db, DEFAULT_POLICY_KEY, { name: 'worker', role: null });
    expect(await recorded(t.db, evaluation.evaluationId)).to.deep.equal(simulation.actions.map((a) => ({ ...a, segment: a.segment })));
    expect(evaluation.summary).to.deep.equal(s);

    const spent = await t.db('actions').whereIn('status', ['auto_approved', 'pending_approval']).sum<{ sum: string }[]>('incentive_amount');
    expect(Number(spent[0]!.sum)).to.be.at.most(300);
    const low = await t
      .db('actions')
      .join('decisions', 'decisions.decision_id', 'actions.decision_id')
      .whereRaw("decisions.facts->>'confidence' = 'low'")
      .pluck('actions.status');
    expect(low.length).to.be.greaterThan(0);
    expect(low.every((status) => status === 'pending_approval' || status === 'holdout' || status === 'suppressed')).to.equal(true);
    const offered2 = await t.db('actions').where({ customer_id: 'cust-002', action_type: 'retention_offer' }).first();
    expect(offered2).to.equal(undefined);

    const record = await t
      .db('decisions as d')
      .join('actions as a', 'a.decision_id', 'd.decision_id')
      .where('a.action_type', 'retention_offer')
      .where('a.status', 'auto_approved')
      .first('d.*', 'a.incentive_amount');
    expect(record.model_versions).to.deep.equal({ churn: 'churn@1', clv: 'clv@1' });
    expect(record.trace.policy).to.deep.include({ key: DEFAULT_POLICY_KEY, versionId: tighter.versionId });
    expect(record.trace.rule).to.equal('retention-offer-for-valuable-at-risk');
    expect(record.trace.conditions.map((c: { parameter: string }) => c.parameter)).to.deep.equal([
      '$.retention_offer.thresholds.minChurnProbability',
      '$.retention_offer.thresholds.minConservativeClv',
      '$.retention_offer.thresholds.minPAlive',
    ]);
    expect(record.facts.churnProbability).to.be.at.least(0.6);
    expect(await rejection(t.db('decisions').where({ decision_id: record.decision_id }).update({ trace: '{}' }))).to.match(/append-only/);

    // Run again: the open actions are not proposed twice and the budget already committed is not spent again.
    const again = await evaluatePolicy(t.db, DEFAULT_POLICY_KEY, { name: 'worker', role: null });
    expect(again.summary.customersReached).to.be.lessThan(s.customersReached);
    const total = await t.db('actions').whereIn('status', ['auto_approved', 'pending_approval']).sum<{ sum: string }[]>('incentive_amount');
    expect(Number(total[0]!.sum)).to.be.at.most(300);
  });

  it('holds every new action for a person while the kill switch is on; the worker role can evaluate', async function () {
    const fresh = await freshDatabase('policy_kill');
    try {
      await insertScoredCustomers(fresh.db, population());
      await seedDefaultPolicy(fresh.db, bob);
      await setKillSwitch(fresh.db, true, alice, 'campaign system misbehaving');
      const worker = createDb(urlFor(fresh.name, 'worker'));
      try {
        const evaluation = await evaluatePolicy(worker, DEFAULT_POLICY_KEY, { name: 'worker', role: null });
        expect(evaluation.summary.customersReached).to.be.greaterThan(0);
        expect(await rejection(worker('policy_versions').update({ status: 'retired' }))).to.match(/permission denied/);
      } finally {
        await worker.destroy();
      }
      const statuses = await fresh.db('actions').distinct('status', 'status_reason');
      expect(statuses.filter((s) => s.status === 'auto_approved')).to.deep.equal([]);
      expect(statuses).to.deep.include({ status: 'pending_approval', status_reason: 'kill_switch' });
      expect(await fresh.db('audit_log').where({ action: 'kill_switch.on' }).pluck('actor')).to.deep.equal(['alice']);
    } finally {
      await fresh.db.destroy();
    }
  });

  it("the daily pipeline's view as the worker: active policies and the served run; an evaluation for an older run is refused", async () => {
    const fresh = await freshDatabase('policy_target');
    const worker = createDb(urlFor(fresh.name, 'worker'));
    try {
      const older = await insertScoredCustomers(fresh.db, population(), new Date('2026-11-01T00:00:00Z'));
      expect(await activePolicyKeys(worker)).to.deep.equal([]);
      await seedDefaultPolicy(fresh.db, bob);
      // A draft of another policy is not evaluated.
      await createDraft(fresh.db, { policyKey: 'winback', rules: DEFAULT_RULES, parameters: DEFAULT_PARAMETERS }, alice);
      expect(await activePolicyKeys(worker)).to.deep.equal([DEFAULT_POLICY_KEY]);
      expect(await servedScoringRun(worker)).to.deep.equal({ runId: older, asOf: '2026-11-01T00:00:00.000Z' });

      // A newer as-of published after: it is what evaluations read, so one meant for the older run is refused.
      const newer = await insertScoredCustomers(fresh.db, population(), new Date('2026-11-08T00:00:00Z'));
      expect(await servedScoringRun(worker)).to.deep.equal({ runId: newer, asOf: '2026-11-08T00:00:00.000Z' });
      const refused = await rejection(
        evaluatePolicy(worker, DEFAULT_POLICY_KEY, { name: 'worker', role: null }, undefined, undefined, { scoringRunId: older }),
      );
      expect(refused).to.be.instanceOf(ConflictError);
      expect(refused.message).to.equal(`scoringRunId: run ${older} is not the latest published scores (run ${newer} is): not evaluated`);
      expect(await fresh.db('policy_evaluations').count({ n: '*' })).to.deep.equal([{ n: '0' }]);

      const evaluation = await evaluatePolicy(worker, DEFAULT_POLICY_KEY, { name: 'worker', role: null }, undefined, undefined, {
        scoringRunId: newer,
      });
      expect(await fresh.db('policy_evaluations').where({ evaluation_id: evaluation.evaluationId }).pluck('scoring_run_id')).to.deep.equal([
        String(newer),
      ]);
    } finally {
      await worker.destroy();
      await fresh.db.destroy();
    }
  });
});
