import { expect } from 'chai';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { withFailureMapping } from '../../activities/failures';
import { promotionWorkflow, retrainWorkflow, shadowEvaluationWorkflow } from '../../workflows';
import { decideUpdate, promotionStateQuery } from '../../workflows/promotion';
import type { ShadowEvaluationInput } from '../../workflows/shadow-evaluation';
import { startTemporal } from '../support/temporal';

/** The lifecycle workflows' branching with mocked activities: fast, and every path taken. */
describe('lifecycle workflows: branching (mocked activities)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTemporal();
  });
  after(async () => {
    await env?.teardown();
  });

  let queue = 0;
  async function withMocks<T>(
    mocks: Partial<Record<keyof Activities, (...args: never[]) => Promise<unknown>>>,
    work: (taskQueue: string) => Promise<T>,
  ) {
    const taskQueue = `lifecycle-mock-${Date.now()}-${queue++}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../../workflows'),
      activities: withFailureMapping(mocks as Record<string, (...args: never[]) => Promise<unknown>>),
    });
    return worker.runUntil(work(taskQueue));
  }

  /** Promotion activities that record what they were asked. */
  function promotionMocks(shadowReportId: number | null) {
    const calls: string[] = [];
    const mocks = {
      openPromotion: async (input: { candidateId: number; forcedReason: string | null }) => {
        calls.push(`open ${input.candidateId} forced=${input.forcedReason}`);
        return { candidateId: input.candidateId, kind: 'churn', version: 2, shadowReportId };
      },
      closePromotion: async (input: { status: string }) => {
        calls.push(`close ${input.status}`);
      },
      carryOutDecision: async (input: { decision: string; by: string; role: string }) => {
        calls.push(`${input.decision} by ${input.by} (${input.role})`);
        return { status: input.decision === 'approve' ? 'approved' : 'rejected', modelId: 7, modelStatus: 'champion' };
      },
    };
    return { calls, mocks };
  }

  it('retrain: one activity per kind, in order, all keyed by the workflow id', async () => {
    const seen: { kind: string; trainingRun: string; churnHorizonDays?: number }[] = [];
    const result = await withMocks(
      {
        trainModelKind: async (input: { kind: string; trainingRun: string; churnHorizonDays?: number }) => {
          seen.push({ kind: input.kind, trainingRun: input.trainingRun, churnHorizonDays: input.churnHorizonDays });
          return { modelId: seen.length, kind: input.kind, version: 1, status: 'shadow', metrics: {} };
        },
      },
      (taskQueue) =>
        env.client.workflow.execute(retrainWorkflow, {
          taskQueue,
          workflowId: 'retrain-mock',
          args: [{ asOf: '2026-07-01T00:00:00Z', horizons: { churnDays: 60 } }],
        }),
    );
    expect(seen).to.deep.equal(['churn', 'clv', 'segments'].map((kind) => ({ kind, trainingRun: 'retrain-mock', churnHorizonDays: 60 })));
    expect(result.models.map((m) => m.modelId)).to.deep.equal([1, 2, 3]);
  });

  it('shadow: a report per candidate, then a promotion per candidate when asked (an already waiting one is fine)', async () => {
    // A fresh id per run: the promotion workflow id is derived from it.
    const candidate = Date.now() % 1_000_000_000;
    const { mocks } = promotionMocks(1);
    const result = await withMocks(
      {
        ...mocks,
        evaluateCandidate: async (input: { candidateId: number; evaluationRun: string }) => ({
          reportId: input.candidateId + 1,
          report: { candidate: { modelId: input.candidateId }, evaluationRun: input.evaluationRun },
        }),
      },
      async (taskQueue) => {
        const args: [ShadowEvaluationInput] = [{ candidateIds: [candidate], requestPromotion: { deadlineSeconds: 60 } }];
        const firstRun = await env.client.workflow.execute(shadowEvaluationWorkflow, {
          taskQueue,
          workflowId: `shadow-mock-${candidate}`,
          args,
        });
        // Again: the promotion of this candidate is already waiting, and that is not an error.
        const again = await env.client.workflow.execute(shadowEvaluationWorkflow, {
          taskQueue,
          workflowId: `shadow-mock-${candidate}-2`,
          args,
        });
        const promotion = env.client.workflow.getHandle(`promotion-${candidate}`);
        const state = await promotion.query(promotionStateQuery);
        await promotion.terminate('test over');
        return { firstRun, again, state };
      },
    );
    expect(result.firstRun.reports.map((r) => [r.candidateId, r.reportId])).to.deep.equal([[candidate, candidate + 1]]);
    expect(result.firstRun.promotions).to.deep.equal([`promotion-${candidate}`]);
    expect(result.again.promotions).to.deep.equal([`promotion-${candidate}`]);
    expect(result.state.status).to.equal('waiting');
  });

  it('promotion without a shadow report is refused at once; forced, it waits', async () => {
    const refused = promotionMocks(null);
    const outcome = await withMocks(refused.mocks, (taskQueue) =>
      env.client.workflow.execute(promotionWorkflow, {
        taskQueue,
        workflowId: `promotion-mock-refused-${Date.now()}`,
        args: [{ candidateId: 5 }],
      }),
    );
    expect(outcome.status).to.equal('refused');
    expect(refused.calls).to.deep.equal(['open 5 forced=null', 'close refused']);

    const forced = promotionMocks(null);
    const approved = await withMocks(forced.mocks, async (taskQueue) => {
      const handle = await env.client.workflow.start(promotionWorkflow, {
        taskQueue,
        workflowId: `promotion-mock-forced-${Date.now()}`,
        args: [{ candidateId: 5, force: { reason: 'incident fix' } }],
      });
      return handle.executeUpdate(decideUpdate, { args: [{ decision: 'approve', by: 'mia', role: 'ml', reason: 'urgent' }] });
    });
    expect(approved.status).to.equal('approved');
    expect(forced.calls).to.deep.equal(['open 5 forced=incident fix', 'approve by mia (ml)']);
  });

  it('promotion: reject retires; a second decision, a blank reason or another role is refused by the validator', async () => {
    const { calls, mocks } = promotionMocks(3);
    const outcome = await withMocks(mocks, async (taskQueue) => {
      const handle = await env.client.workflow.start(promotionWorkflow, {
        taskQueue,
        workflowId: `promotion-mock-reject-${Date.now()}`,
        args: [{ candidateId: 6 }],
      });
      const refusals = [];
      for (const d of [
        { decision: 'approve', by: 'sam', role: 'support', reason: 'ok' },
        { decision: 'approve', by: 'mia', role: 'ml', reason: '  ' },
        { decision: 'maybe', by: 'mia', role: 'ml', reason: 'unsure' },
      ] as const) {
        refusals.push(
          await handle.executeUpdate(decideUpdate, { args: [d as never] }).then(
            () => 'accepted',
            (err: Error) => (err.cause as Error | undefined)?.message ?? err.message,
          ),
        );
      }
      const rejected = await handle.executeUpdate(decideUpdate, {
        args: [{ decision: 'reject', by: 'mia', role: 'ml', reason: 'worse ECE' }],
      });
      const late = await handle
        .executeUpdate(decideUpdate, { args: [{ decision: 'approve', by: 'max', role: 'ml', reason: 'changed my mind' }] })
        .then(
          () => 'accepted',
          (err: Error) => (err.cause as Error | undefined)?.message ?? err.message,
        );
      return { refusals, rejected, late, result: await handle.result() };
    });
    expect(outcome.refusals[0]).to.match(/Only the ML role may decide/);
    expect(outcome.refusals[1]).to.match(/reason/);
    expect(outcome.refusals[2]).to.match(/approve or reject/);
    expect(outcome.rejected.status).to.equal('rejected');
    expect(outcome.late).to.not.equal('accepted');
    expect(outcome.result.status).to.equal('rejected');
    expect(calls).to.deep.equal(['open 6 forced=null', 'reject by mia (ml)']);
  });

  it('promotion: no decision by the deadline, it expires', async () => {
    const { calls, mocks } = promotionMocks(3);
    const outcome = await withMocks(mocks, (taskQueue) =>
      env.client.workflow.execute(promotionWorkflow, {
        taskQueue,
        workflowId: `promotion-mock-expire-${Date.now()}`,
        args: [{ candidateId: 8, deadlineSeconds: 1 }],
      }),
    );
    expect(outcome.status).to.equal('expired');
    expect(calls).to.deep.equal(['open 8 forced=null', 'close expired']);
  });
});
