import { expect } from 'chai';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { DEFAULT_QUALITY_RULES } from '../../quality/rules';
import { getChampion, getModel, registerModel } from '../../registry/model-registry';
import { MS_PER_DAY } from '../../lib/horizons';
import { promotionWorkflow, retrainWorkflow, shadowEvaluationWorkflow } from '../../workflows';
import { decideUpdate, promotionStateQuery, DECISION_REFUSED } from '../../workflows/promotion';
import type { RetrainResult } from '../../workflows/retrain';
import { cliStdout } from '../support/cli';
import { recordHistory } from '../support/histories';
import { ingestedShop, type IngestedShop } from '../support/shop';
import { startTemporal, testSecretKey, testWorker } from '../support/temporal';

describe('model lifecycle workflows (real Temporal, Postgres, libxgboost)', function () {
  this.timeout(900_000);
  let env: TestWorkflowEnvironment;
  let shop: IngestedShop;
  const taskQueue = 'lifecycle-real';
  let first: RetrainResult;
  let second: RetrainResult;

  before(async () => {
    [env, shop] = await Promise.all([startTemporal(), ingestedShop(3000, 11)]);
  });
  after(async () => {
    await env?.teardown();
  });

  const run = async <T>(work: () => Promise<T>): Promise<T> => (await testWorker(env, shop.db, taskQueue)).runUntil(work());
  const idsOf = (r: RetrainResult) => r.models.map((m) => m.modelId);

  it('retrain on an empty registry: the first model of each kind becomes champion', async () => {
    const asOf = new Date(shop.exportInstant.getTime() - 120 * MS_PER_DAY).toISOString();
    const handle = await env.client.workflow.start(retrainWorkflow, { taskQueue, workflowId: 'retrain-first', args: [{ asOf }] });
    first = await run(() => handle.result());
    await recordHistory(env, handle, 'retrain');
    expect(first.trainingRun).to.equal('retrain-first');
    expect(first.models.map((m) => [m.kind, m.status])).to.deep.equal([
      ['churn', 'champion'],
      ['clv', 'champion'],
      ['segments', 'champion'],
    ]);
  });

  it('retrain later: candidates in shadow with their metrics, the champions unchanged', async () => {
    second = await run(() =>
      env.client.workflow.execute(retrainWorkflow, {
        taskQueue,
        workflowId: 'retrain-second',
        args: [{ asOf: shop.exportInstant.toISOString(), horizons: { churnDays: 90, clvMonths: 12 } }],
      }),
    );
    expect(second.models.map((m) => [m.kind, m.status])).to.deep.equal([
      ['churn', 'shadow'],
      ['clv', 'shadow'],
      ['segments', 'shadow'],
    ]);
    expect(second.models[0]!.metrics.bakeOff).to.be.an('array').with.length.greaterThan(0);
    expect(second.models[1]!.metrics).to.have.nested.property('bakeOff.candidates');
    for (const kind of ['churn', 'clv', 'segments']) expect((await getChampion(shop.db, kind))!.modelId).to.be.oneOf(idsOf(first));
    const rows = await shop.db('model_registry').where({ training_run: 'retrain-second' }).select('model_id');
    expect(rows.map((r) => Number(r.model_id)).sort()).to.deep.equal([...idsOf(second)].sort());
  });

  it('a retried training activity (same training run) returns the model it already registered', async () => {
    const activities = createActivities(shop.db, {
      importDir: '/nonexistent',
      qualityRules: DEFAULT_QUALITY_RULES,
      secretKey: testSecretKey,
    });
    const before = Number((await shop.db('model_registry').count({ n: '*' }))[0]!.n);
    const again: { modelId: number }[] = [];
    for (const kind of ['churn', 'clv', 'segments'] as const) {
      again.push(
        await new MockActivityEnvironment().run(activities.trainModelKind, {
          asOf: shop.exportInstant.toISOString(),
          kind,
          trainingRun: 'retrain-second',
          createdBy: 'retry',
        }),
      );
    }
    expect(again.map((m) => m.modelId)).to.deep.equal(idsOf(second));
    expect(Number((await shop.db('model_registry').count({ n: '*' }))[0]!.n)).to.equal(before);
  });

  it('shadow evaluation: candidate scores kept in shadow, a comparison report per candidate, nothing served', async () => {
    const servedBefore = await shop.db('customer_risk_scores').count({ n: '*' });
    const handle = await env.client.workflow.start(shadowEvaluationWorkflow, {
      taskQueue,
      workflowId: 'shadow-second',
      args: [{ candidateIds: idsOf(second) }],
    });
    const result = await run(() => handle.result());
    await recordHistory(env, handle, 'shadow-evaluation');
    expect(result.reports.map((r) => r.candidateId)).to.deep.equal(idsOf(second));
    const [churn, clv, segments] = result.reports.map((r) => r.report);
    expect(churn!.backtest!.metrics.map((m) => m.metric)).to.deep.equal(['ROC AUC', 'Expected calibration error', 'Brier score']);
    expect(clv!.backtest!.metrics.map((m) => m.metric)).to.deep.equal(['Spearman', 'Top-decile capture', 'Total ÷ actual']);
    expect(churn!.backtest!.cutoff).to.equal(new Date(shop.exportInstant.getTime() - 90 * MS_PER_DAY).toISOString());
    for (const m of [...churn!.backtest!.metrics, ...clv!.backtest!.metrics]) {
      expect(m.delta).to.be.closeTo(m.candidate - m.champion, 1e-12);
      expect(Number.isFinite(m.candidate) && Number.isFinite(m.champion)).to.equal(true);
    }
    expect(segments!.backtest).to.equal(null);
    // Two different models: some shift, but the same customers mostly ranked alike.
    expect(churn!.shift.psi).to.be.greaterThan(0);
    expect(churn!.shift.rankAgreement).to.be.within(0.3, 1);
    expect(churn!.shift.topDecileOverlap).to.be.within(0, 1);
    expect(churn!.shift.labelChanges).to.be.within(0, churn!.customers);
    expect(clv!.shift.topDecileOverlap).to.be.within(0, 1);
    expect(segments!.shift.labelChanges).to.be.within(0, segments!.customers);

    const shadowRows = await shop
      .db('shadow_scores')
      .where({ model_id: idsOf(second)[0] })
      .count({ n: '*' });
    expect(Number(shadowRows[0]!.n)).to.equal(churn!.customers);
    expect(await shop.db('customer_risk_scores').count({ n: '*' })).to.deep.equal(servedBefore);
    expect(await shop.db('shadow_reports').where({ evaluation_run: 'shadow-second' }).count({ n: '*' })).to.deep.equal([{ n: '3' }]);

    const printed = cliStdout(['models', 'compare', String(idsOf(second)[0])], shop.url);
    expect(printed).to.contain('# Shadow evaluation: churn');
    expect(printed).to.contain('| ROC AUC |');
    expect(printed).to.contain('rank agreement (Spearman)');
  });

  it('promotion: waits; a non-ML caller is refused by the validator; the ML decision promotes, audited with the decider', async () => {
    const candidate = idsOf(second)[0]!;
    const championBefore = (await getChampion(shop.db, 'churn'))!.modelId;
    const handle = await env.client.workflow.start(promotionWorkflow, {
      taskQueue,
      workflowId: `promotion-${candidate}`,
      args: [{ candidateId: candidate }],
    });
    await run(async () => {
      // Waiting: the query answers, nothing has changed.
      for (let i = 0; i < 50 && (await shop.db('model_promotions').where({ workflow_id: handle.workflowId })).length === 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect((await handle.query(promotionStateQuery)).status).to.equal('waiting');
      const refused = await handle
        .executeUpdate(decideUpdate, { args: [{ decision: 'approve', by: 'mallory', role: 'marketing', reason: 'looks good' }] })
        .catch((err: unknown) => err);
      expect(refused).to.be.instanceOf(WorkflowUpdateFailedError);
      expect(((refused as WorkflowUpdateFailedError).cause as { type?: string }).type).to.equal(DECISION_REFUSED);
      expect((await handle.query(promotionStateQuery)).decision).to.equal(null);
      expect((await getModel(shop.db, candidate)).status).to.equal('shadow');

      const outcome = await handle.executeUpdate(decideUpdate, {
        args: [{ decision: 'approve', by: 'mia', role: 'ml', reason: 'AUC up, calibration as good' }],
      });
      expect(outcome.status).to.equal('approved');
      expect((await handle.result()).status).to.equal('approved');
    });
    await recordHistory(env, handle, 'promotion-approved');
    expect((await getChampion(shop.db, 'churn'))!.modelId).to.equal(candidate);
    expect((await getModel(shop.db, championBefore)).status).to.equal('retired');
    const audit = await shop
      .db('audit_log')
      .where({ target: `model:${candidate}` })
      .orderBy('id');
    expect(audit.map((a) => [a.actor, a.role, a.details.to, a.details.via, a.details.retiredChampion])).to.deep.equal([
      ['retrain-second', null, 'shadow', 'training', undefined],
      ['mia', 'ml', 'champion', 'workflow', championBefore],
    ]);
    expect(await shop.db('audit_log').where({ actor: 'mallory' })).to.have.length(0);
    const promotion = await shop.db('model_promotions').where({ workflow_id: handle.workflowId }).first();
    expect([promotion.status, promotion.decided_by, promotion.decided_role]).to.deep.equal(['approved', 'mia', 'ml']);

    // And back: `foresight models rollback churn` restores the previous champion.
    const out = cliStdout(['models', 'rollback', 'churn', '--by', 'mia', '--reason', 'drift in production'], shop.url);
    expect(out).to.contain(`Model ${championBefore}`);
    expect((await getChampion(shop.db, 'churn'))!.modelId).to.equal(championBefore);
  });

  it('promotion refuses without a shadow report; forced, it waits and expires at its deadline (recorded)', async () => {
    const bare = await registerModel(shop.db, { kind: 'clv', artifact: {}, createdBy: 'test' });
    const refused = await run(() =>
      env.client.workflow.execute(promotionWorkflow, {
        taskQueue,
        workflowId: `promotion-${bare.modelId}`,
        args: [{ candidateId: bare.modelId }],
      }),
    );
    expect(refused.status).to.equal('refused');
    expect(refused.reason).to.match(/no finished shadow report/);

    // The time-skipping test server cannot be downloaded here: a deadline of seconds on the dev server instead.
    const handle = await env.client.workflow.start(promotionWorkflow, {
      taskQueue,
      workflowId: `promotion-${bare.modelId}-forced`,
      args: [{ candidateId: bare.modelId, deadlineSeconds: 3, force: { reason: 'hotfix, report to follow' } }],
    });
    const expired = await run(() => handle.result());
    await recordHistory(env, handle, 'promotion-expired');
    expect(expired.status).to.equal('expired');
    const rows = await shop
      .db('model_promotions')
      .where({ candidate_id: bare.modelId })
      .orderBy('created_at')
      .select('status', 'forced_reason');
    expect(rows).to.deep.equal([
      { status: 'refused', forced_reason: null },
      { status: 'expired', forced_reason: 'hotfix, report to follow' },
    ]);
    expect((await getModel(shop.db, bare.modelId)).status).to.equal('candidate');
    const audit = await shop
      .db('audit_log')
      .where({ target: `model:${bare.modelId}` })
      .orderBy('id')
      .select('action');
    expect(audit.map((a) => a.action)).to.deep.equal(['model.promotion.refused', 'model.promotion.expired']);
  });
});
