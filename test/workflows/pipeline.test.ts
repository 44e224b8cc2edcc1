import { expect } from 'chai';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities';
import { DEFAULT_POLICY_KEY, seedDefaultPolicy } from '../../policy/default-policy';
import { withFailureMapping } from '../../activities/failures';
import { createForesightWorker } from '../../cli/worker';
import type { GateResult } from '../../quality/gate';
import type { ScoringRun } from '../../scoring/scoring-runs';
import { pipelineWorkflow } from '../../workflows';
import { runCli } from '../support/cli';
import { recordHistory } from '../support/histories';
import type { IngestedShop } from '../support/shop';
import { trainedShop } from '../support/scoring';
import { startTemporal, testSecretKey } from '../support/temporal';

describe('pipelineWorkflow: refresh, scoring, then each active policy as business-keyed children; schedules', function () {
  this.timeout(300_000);
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTemporal();
  });
  after(async () => {
    await env?.teardown();
  });

  describe('branching (mocked activities)', () => {
    interface MockWorld {
      gate?: GateResult['status'];
      /** The policies with an active version. */
      policies?: string[];
      /** The run evaluations would read; default: the run the mocked scoring publishes. */
      servedRun?: { runId: number; asOf: string };
    }

    async function withMockWorker<T>(world: MockWorld, work: (taskQueue: string) => Promise<T>) {
      const gate = world.gate ?? 'pass';
      const calls: string[] = [];
      let evaluations = 0;
      let published: { runId: number; asOf: string } | null = null;
      const run: ScoringRun = {
        runId: 1,
        asOf: '',
        status: 'running',
        modelVersions: {},
        partitions: [{ partition: 0, after: null, upTo: null }],
        customersExpected: 5,
        latestEventAt: null,
      };
      const activities = withFailureMapping({
        qualityGate: async (input: { asOf: string; gateRun: string }) => {
          calls.push(`gate ${input.gateRun}`);
          return { gateRun: input.gateRun, asOf: input.asOf, status: gate, checks: [] };
        },
        featureSnapshot: async (input: { asOf: string }) => {
          calls.push(`snapshot ${input.asOf}`);
          return { asOf: input.asOf, featureVersion: 'v', customers: 5 };
        },
        beginScoringRun: async (input: { asOf: string }) => {
          calls.push(`score ${input.asOf}`);
          published = { runId: 1, asOf: input.asOf };
          return { ...run, asOf: input.asOf };
        },
        scorePartition: async () => ({ partition: 0, customers: 5, scoredBy: 'mock' }),
        publishScoringRun: async () => ({ runId: 1, customers: 5 }),
        policiesToEvaluate: async () => {
          calls.push('list policies');
          return { policyKeys: world.policies ?? [], servedRun: world.servedRun ?? published };
        },
        evaluatePolicyAndRelease: async (input: { policyKey: string; startedBy: string; scoringRunId?: number }) => {
          calls.push(`evaluate ${input.policyKey} on run ${input.scoringRunId} by ${input.startedBy}`);
          evaluations += 1;
          return { evaluationId: 100 + evaluations, released: 3, approvals: [] };
        },
        runMonitoring: async (input: { runId: number }) => {
          calls.push(`monitor ${input.runId}`);
          return { reportId: 1, breaches: [], opened: 0, resolved: 0 };
        },
        failScoringRun: async () => undefined,
      }) as unknown as Activities;
      const taskQueue = `pipeline-mock-${gate}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
      const worker = await createForesightWorker(activities, { connection: env.nativeConnection, taskQueue, partitionsPerWorker: 2 });
      return { result: await worker.runUntil(work(taskQueue)), calls };
    }

    it('runs refresh-<day> then scoring-<day>; no active policy: nothing evaluated; the same day again is a no-op', async () => {
      const { result, calls } = await withMockWorker({}, async (taskQueue) => {
        const first = await env.client.workflow.execute(pipelineWorkflow, {
          taskQueue,
          workflowId: 'pipeline-2031-07-01',
          args: [{ asOf: '2031-07-01T00:00:00.000Z' }],
        });
        // As the schedule would start it (another workflow id), for a day already done.
        const again = await env.client.workflow.execute(pipelineWorkflow, {
          taskQueue,
          workflowId: 'pipeline-scheduled-2031-07-01T02:00:00Z',
          args: [{ asOf: '2031-07-01T00:00:00.000Z' }],
        });
        return { first, again };
      });
      expect(calls).to.deep.equal([
        'gate refresh-2031-07-01',
        'snapshot 2031-07-01T00:00:00.000Z',
        'score 2031-07-01T00:00:00.000Z',
        'monitor 1',
        'list policies',
        // The second run: every stage already done; it still looks for active policies (none).
        'list policies',
      ]);
      expect(result.first.refresh.status).to.equal('done');
      expect(result.first.scoring).to.deep.equal({
        status: 'done',
        result: { runId: 1, customers: 5, monitoring: { reportId: 1, breaches: [], opened: 0, resolved: 0 } },
      });
      expect(result.again.refresh).to.deep.equal({ status: 'already-done', workflowId: 'refresh-2031-07-01' });
      expect(result.again.scoring).to.deep.equal({ status: 'already-done', workflowId: 'scoring-2031-07-01' });
      const none = { scoringRunId: null, policies: [], skipped: 'no policy has an active version' };
      expect(result.first.decisions).to.deep.equal(none);
      expect(result.again.decisions).to.deep.equal(none);
    });

    it('evaluates each active policy on the run just published, one after another (policy-<key>-<day>); the same day again evaluates none', async () => {
      const { result, calls } = await withMockWorker({ policies: ['loyalty', 'retention'] }, async (taskQueue) => {
        const first = await env.client.workflow.execute(pipelineWorkflow, {
          taskQueue,
          workflowId: 'pipeline-2031-07-03',
          args: [{ asOf: '2031-07-03T00:00:00.000Z' }],
        });
        const again = await env.client.workflow.execute(pipelineWorkflow, {
          taskQueue,
          workflowId: 'pipeline-scheduled-2031-07-03T02:00:00Z',
          args: [{ asOf: '2031-07-03T00:00:00.000Z' }],
        });
        return { first, again };
      });
      expect(calls.filter((c) => !c.startsWith('gate') && !c.startsWith('snapshot'))).to.deep.equal([
        'score 2031-07-03T00:00:00.000Z',
        'monitor 1',
        'list policies',
        'evaluate loyalty on run 1 by pipeline-2031-07-03',
        'evaluate retention on run 1 by pipeline-2031-07-03',
        'list policies',
      ]);
      expect(result.first.decisions).to.deep.equal({
        scoringRunId: 1,
        skipped: null,
        policies: [
          { policyKey: 'loyalty', outcome: { status: 'done', result: { evaluationId: 101, released: 3, pending: 0 } } },
          { policyKey: 'retention', outcome: { status: 'done', result: { evaluationId: 102, released: 3, pending: 0 } } },
        ],
      });
      expect(result.again.decisions).to.deep.equal({
        scoringRunId: 1,
        skipped: null,
        policies: [
          { policyKey: 'loyalty', outcome: { status: 'already-done', workflowId: 'policy-loyalty-2031-07-03' } },
          { policyKey: 'retention', outcome: { status: 'already-done', workflowId: 'policy-retention-2031-07-03' } },
        ],
      });
    });

    it('a day older than the latest published scores is scored but not decided on: evaluations would read the newer run', async () => {
      const { result, calls } = await withMockWorker(
        { policies: ['retention'], servedRun: { runId: 7, asOf: '2031-08-01T00:00:00.000Z' } },
        (taskQueue) =>
          env.client.workflow.execute(pipelineWorkflow, {
            taskQueue,
            workflowId: 'pipeline-2031-07-04',
            args: [{ asOf: '2031-07-04T00:00:00.000Z' }],
          }),
      );
      expect(result.scoring.status).to.equal('done');
      expect(result.decisions).to.deep.equal({
        scoringRunId: null,
        policies: [],
        skipped: 'the scores as of 2031-07-04 are not the latest published (run 7 as of 2031-08-01 is): its own pipeline decides on it',
      });
      expect(calls.filter((c) => c.startsWith('evaluate'))).to.deep.equal([]);
    });

    it('a failed data-quality gate stops the pipeline before scoring', async () => {
      const { result, calls } = await withMockWorker({ gate: 'fail' }, (taskQueue) =>
        env.client.workflow
          .execute(pipelineWorkflow, { taskQueue, workflowId: 'pipeline-2031-07-02', args: [{ asOf: '2031-07-02T00:00:00.000Z' }] })
          .catch((err: unknown) => err),
      );
      expect(result).to.be.instanceOf(WorkflowFailedError);
      expect(calls).to.deep.equal(['gate refresh-2031-07-02']);
    });
  });

  describe('end to end through the CLI (real worker in the CLI process, Postgres, libxgboost)', () => {
    let shop: IngestedShop;
    const taskQueue = `pipeline-cli-${process.pid}`;
    const cli = (args: string[]) =>
      runCli(args, shop.url, {
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        FORESIGHT_IMPORT_DIR: '/tmp',
        FORESIGHT_SECRET_KEY: testSecretKey.toString('base64'),
      });
    before(async function () {
      this.timeout(600_000);
      shop = await trainedShop(903);
    });

    it('foresight run pipeline: gate, snapshot, partitioned scoring published, the active policy evaluated on it; the same day again starts nothing', async () => {
      const policy = await seedDefaultPolicy(shop.db, { name: 'olivia', role: 'owner' });
      const asOf = shop.exportInstant.toISOString();
      const day = asOf.slice(0, 10);
      const first = cli(['run', 'pipeline', '--as-of', asOf, '--partition-size', '700']);
      expect(first.status, first.stderr).to.equal(0);
      expect(first.stderr).to.match(/stage: refresh \(refresh-/);
      expect(first.stderr).to.match(/stage: scoring \(scoring-/);
      expect(first.stdout).to.match(/customers scored as of/);
      expect(first.stdout).to.match(/Monitoring: /);
      const runs = await shop.db('scoring_runs').where({ as_of: asOf }).select('run_id', 'status', 'partitions');
      expect(runs).to.have.length(1);
      expect(runs[0]!.status).to.equal('published');
      expect(runs[0]!.partitions.length).to.be.greaterThan(1);
      expect(await shop.db('monitoring_reports').where({ run_id: runs[0]!.run_id }).count({ n: '*' })).to.deep.equal([{ n: '1' }]);
      const served = await shop
        .db('customer_profiles_latest')
        .select(shop.db.raw('count(*)::int as n, count(distinct customer_id)::int as d'));
      const snapshot = await shop.db('feature_snapshot_headers').where({ as_of: asOf }).first('customer_count');
      expect(served).to.deep.equal([{ n: snapshot.customer_count, d: snapshot.customer_count }]);

      // Decisions: the policy's active version on the run just published, started by the day's pipeline.
      const evaluations = await shop
        .db('policy_evaluations')
        .where({ policy_key: DEFAULT_POLICY_KEY })
        .select(
          shop.db.raw('evaluation_id::int as evaluation_id'),
          shop.db.raw('scoring_run_id::int as run_id'),
          shop.db.raw('version_id::int as version_id'),
          'started_by',
        );
      expect(evaluations).to.have.length(1);
      expect(evaluations[0]).to.include({ run_id: Number(runs[0]!.run_id), version_id: policy.versionId, started_by: `pipeline-${day}` });
      const actionsOf = async () =>
        Number(
          (
            await shop
              .db('actions as a')
              .join('decisions as d', 'd.decision_id', 'a.decision_id')
              .where('d.scoring_run_id', runs[0]!.run_id)
              .count({ n: '*' })
          )[0]!.n,
        );
      const actions = await actionsOf();
      expect(actions).to.be.greaterThan(0);
      expect(first.stdout).to.match(
        new RegExp(`Decisions on scoring run ${runs[0]!.run_id}:\\n  retention: evaluation ${evaluations[0]!.evaluation_id}, \\d+ actions`),
      );

      const again = cli(['run', 'pipeline', '--as-of', asOf]);
      expect(again.status, again.stderr).to.equal(0);
      expect(again.stderr).to.match(/pipeline-\d{4}-\d{2}-\d{2} already ran/);
      expect(await shop.db('scoring_runs').where({ as_of: asOf }).count({ n: '*' })).to.deep.equal([{ n: '1' }]);
      expect(await shop.db('policy_evaluations').count({ n: '*' })).to.deep.equal([{ n: '1' }]);
      expect(await actionsOf()).to.equal(actions);
      await recordHistory(env, env.client.workflow.getHandle(`pipeline-${day}`), 'pipeline-decisions');

      // An earlier day, scored after: evaluations read the latest published scores (the later day's), so it decides nothing.
      const earlier = new Date(shop.exportInstant.getTime() - 7 * 86_400_000).toISOString();
      const late = cli(['run', 'pipeline', '--as-of', earlier, '--partition-size', '700']);
      expect(late.status, late.stderr).to.equal(0);
      expect(await shop.db('scoring_runs').where({ as_of: earlier, status: 'published' }).count({ n: '*' })).to.deep.equal([{ n: '1' }]);
      expect(late.stdout).to.include(
        `Decisions: none (the scores as of ${earlier.slice(0, 10)} are not the latest published (run ${runs[0]!.run_id} as of ${day} is)`,
      );
      expect(await shop.db('policy_evaluations').count({ n: '*' })).to.deep.equal([{ n: '1' }]);
    });

    it('foresight schedule create|list|pause|unpause|trigger|delete', async () => {
      const created = cli(['schedule', 'create', '--at', '01:30']);
      expect(created.status, created.stderr).to.equal(0);
      expect(created.stdout).to.match(/Created foresight-daily-pipeline\.\nCreated foresight-weekly-retrain\./);
      expect(cli(['schedule', 'create']).stdout).to.match(/foresight-daily-pipeline exists/);
      expect(cli(['schedule', 'pause', 'foresight-weekly-retrain', '--note', 'holiday']).status).to.equal(0);
      const listed = cli(['schedule', 'list']).stdout;
      if (process.env.FORESIGHT_TEST_VERBOSE) console.log(listed);
      expect(listed).to.match(/foresight-daily-pipeline\s+\S*\s*pipelineWorkflow\s+\S*\s*active/);
      expect(listed).to.match(/foresight-weekly-retrain\s+\S*\s*weeklyRetrainWorkflow\s+\S*\s*paused \(holiday\)/);
      expect(cli(['schedule', 'unpause', 'foresight-weekly-retrain']).status).to.equal(0);

      expect(cli(['schedule', 'trigger', 'foresight-daily-pipeline']).status).to.equal(0);
      const handle = env.client.schedule.getHandle('foresight-daily-pipeline');
      let described = await handle.describe();
      for (let i = 0; i < 50 && described.info.recentActions.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        described = await handle.describe();
      }
      expect(described.info.recentActions).to.have.length(1);
      const started = env.client.workflow.getHandle(described.info.recentActions[0]!.action.workflow.workflowId);
      expect((await started.describe()).type).to.equal('pipelineWorkflow');
      await started.terminate('test: no worker for scheduled runs here');
      expect(described.policies.overlap).to.equal('BUFFER_ONE');
      expect(described.policies.catchupWindow).to.equal(86_400_000);

      for (const id of ['foresight-daily-pipeline', 'foresight-weekly-retrain']) expect(cli(['schedule', 'delete', id]).status).to.equal(0);
      expect(cli(['schedule', 'list']).stdout).to.not.match(/foresight-/);
    });
  });
});
