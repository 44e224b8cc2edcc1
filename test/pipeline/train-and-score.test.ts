import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { expect } from 'chai';
import { getChampion, listModels } from '../../registry/model-registry';
import { trainAndScoreWorkflow } from '../../workflows';
import { ingestedShop, type IngestedShop } from '../support/shop';
import { startTemporal, testWorker } from '../support/temporal';

describe('trainAndScoreWorkflow (real Temporal, Postgres, libxgboost)', () => {
  let env: TestWorkflowEnvironment;
  let shop: IngestedShop;

  before(async function () {
    this.timeout(600_000);
    [env, shop] = await Promise.all([startTemporal(), ingestedShop(8_000, 5)]);
  });
  after(async () => {
    await env?.teardown();
  });

  it('trains and registers every model, then writes one profile per purchasing customer', async function () {
    this.timeout(600_000);
    const worker = await testWorker(env, shop.db, 'pipeline-test');
    const asOf = shop.exportInstant.toISOString();
    const run = (promote: boolean) =>
      env.client.workflow.execute(trainAndScoreWorkflow, {
        args: [{ asOf, createdBy: 'test', promote }],
        taskQueue: 'pipeline-test',
        workflowId: `pipeline-${promote}-${Date.now()}`,
      });
    const [first, second] = await worker.runUntil(async () => [await run(false), await run(false)]);

    expect(first.training.models.map((m) => [m.kind, m.status])).to.deep.equal([
      ['churn', 'champion'],
      ['clv', 'champion'],
      ['segments', 'champion'],
    ]);
    // Once a champion exists, a new model runs in shadow until someone promotes it.
    expect(second.training.models.map((m) => m.status)).to.deep.equal(['shadow', 'shadow', 'shadow']);
    expect((await getChampion(shop.db, 'churn'))!.version).to.equal(1);
    expect((await listModels(shop.db)).length).to.equal(6);
    // Training's own status changes are audited like anyone's: the trainer, no role, and why.
    const audit = await shop.db('audit_log').where({ action: 'model.status' }).orderBy('id');
    expect(audit.map((a) => [a.actor, a.role, a.details.via, a.details.to, a.details.reason])).to.deep.equal([
      ...['churn', 'clv', 'segments'].map(() => ['test', null, 'training', 'champion', 'first model of its kind']),
      ...['churn', 'clv', 'segments'].map(() => ['test', null, 'training', 'shadow', 'new candidate, scored in shadow']),
    ]);
    expect(audit.map((a) => a.details.kind)).to.deep.equal(['churn', 'clv', 'segments', 'churn', 'clv', 'segments']);

    const purchasers = await shop
      .db('orders')
      .where({ status: 'completed' })
      .andWhere('ordered_at', '<=', asOf)
      .countDistinct({ n: 'customer_id' });
    expect(first.scoring.customers).to.equal(Number(purchasers[0]!.n));
    // Re-scoring the same as_of writes a new run beside the first; readers see the newer one only, one row per customer.
    expect(second.scoring.runId).to.not.equal(first.scoring.runId);
    const served = await shop
      .db('customer_profiles_latest')
      .select(shop.db.raw('count(*)::int as n, min(run_id)::int as lo, max(run_id)::int as hi'));
    expect(served).to.deep.equal([{ n: first.scoring.customers, lo: second.scoring.runId, hi: second.scoring.runId }]);

    const profiles = await shop.db('customer_profiles_latest').select('*');
    for (const p of profiles.slice(0, 500)) {
      expect(p.churn_probability).to.be.within(0, 1);
      expect(['low', 'medium', 'high']).to.include(p.risk_band);
      expect(p.churn_drivers).to.have.length(3);
      for (const d of p.churn_drivers) expect(d.sentence).to.be.a('string').and.not.equal('');
      expect(Number(p.clv_expected_net_revenue)).to.be.at.least(0);
      expect(Number(p.clv_lower)).to.be.at.least(0).and.at.most(Number(p.clv_expected_net_revenue));
      expect(Number(p.clv_upper)).to.be.at.least(Number(p.clv_expected_net_revenue));
      expect(['baseline', 'probabilistic', 'gbm', 'blend']).to.include(p.coverage.clv.model);
      expect(p.coverage.clv.interval.level).to.equal(0.9);
      expect(p.p_alive).to.be.within(0, 1);
      expect(p.segment).to.be.a('string');
      expect(p.embedding).to.have.length(16);
      expect(['low', 'medium', 'high']).to.include(p.confidence);
      expect(p.model_versions).to.have.keys(['churn', 'clv', 'segments']);
    }
    // Cold start is said: single-order customers are low confidence with a fallback.
    const coldStart = profiles.filter((p) => p.coverage.ordersLifetime === 1);
    expect(coldStart.length).to.be.greaterThan(0);
    expect(coldStart.every((p) => p.confidence === 'low' && p.coverage.fallback === 'population prior')).to.equal(true);
    // Higher churn risk goes with lower expected value, on average.
    const high = profiles.filter((p) => p.risk_band === 'high');
    const low = profiles.filter((p) => p.risk_band === 'low');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(high.map((p) => Number(p.clv_expected_net_revenue)))).to.be.lessThan(
      mean(low.map((p) => Number(p.clv_expected_net_revenue))),
    );
    // Monitoring follows scoring: one report per run, the re-score measured against the run published before it.
    const reports = await shop.db('monitoring_reports').whereIn('run_id', [first.scoring.runId, second.scoring.runId]).orderBy('report_id');
    expect(reports.map((r) => [Number(r.run_id), r.reference_run_id === null ? null : Number(r.reference_run_id)])).to.deep.equal([
      [first.scoring.runId, null],
      [second.scoring.runId, first.scoring.runId],
    ]);
    expect(second.monitoring.reportId).to.equal(Number(reports[1].report_id));
    expect(reports[0].figures.coverage).to.be.above(0.9);
  });
});
