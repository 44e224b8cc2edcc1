import { expect } from 'chai';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Context } from '@temporalio/activity';
import { NativeConnection } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { createActivities } from '../../activities';
import { createForesightWorker } from '../../cli/worker';
import { withFailureMapping } from '../../activities/failures';
import { DependencyError } from '../../lib/errors';
import { DEFAULT_QUALITY_RULES } from '../../quality/rules';
import { scoreCustomers } from '../../scoring/score-customers';
import type { ScoringRun } from '../../scoring/scoring-runs';
import { scoringWorkflow } from '../../workflows';
import { SCORING_RUN_FAILED } from '../../workflows/scoring';
import type { IngestedShop } from '../support/shop';
import { recordHistory } from '../support/histories';
import { runCounts, servedRuns, trainedShop, watchServedRuns } from '../support/scoring';
import { startTemporal, testSecretKey } from '../support/temporal';

describe('scoringWorkflow: partitions scored in parallel, published at once', function () {
  this.timeout(300_000);
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTemporal();
  });
  after(async () => {
    await env?.teardown();
  });

  describe('branching (mocked activities)', () => {
    const run = (partitions: number): ScoringRun => ({
      runId: 7,
      asOf: '2026-07-01T00:00:00.000Z',
      status: 'running',
      modelVersions: {},
      partitions: Array.from({ length: partitions }, (_, i) => ({ partition: i, after: null, upTo: null })),
      customersExpected: partitions * 10,
      latestEventAt: null,
    });
    async function scoreWith(failing: number | null, maxParallel?: number) {
      const calls = {
        scored: [] as number[],
        published: 0,
        monitored: [] as number[],
        failed: [] as string[],
        inFlight: 0,
        maxInFlight: 0,
        queues: new Set<string>(),
      };
      const activities = withFailureMapping({
        beginScoringRun: async () => run(6),
        scorePartition: async (input: { partition: number }) => {
          calls.queues.add(Context.current().info.taskQueue);
          calls.inFlight += 1;
          calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
          await new Promise((r) => setTimeout(r, 50));
          calls.inFlight -= 1;
          calls.scored.push(input.partition);
          if (input.partition === failing) throw new DependencyError('partition store unavailable');
          return { partition: input.partition, customers: 10, scoredBy: 'mock' };
        },
        publishScoringRun: async () => {
          calls.published += 1;
          return { runId: 7, customers: 60 };
        },
        runMonitoring: async (input: { runId: number }) => {
          // Monitoring reads the published run: it must come after the publish.
          expect(calls.published).to.equal(1);
          calls.monitored.push(input.runId);
          return { reportId: 3, breaches: ['feature_drift'], opened: 1, resolved: 0 };
        },
        failScoringRun: async (input: { reason: string }) => {
          calls.failed.push(input.reason);
        },
      }) as unknown as Activities;
      const taskQueue = `scoring-mock-${failing}-${maxParallel}-${Date.now()}`;
      const worker = await createForesightWorker(activities, { connection: env.nativeConnection, taskQueue, partitionsPerWorker: 4 });
      const outcome = await worker.runUntil(
        env.client.workflow
          .execute(scoringWorkflow, { taskQueue, workflowId: taskQueue, args: [{ asOf: '2026-07-01', maxParallel }] })
          .then(
            (result) => ({ result, error: undefined }),
            (error: unknown) => ({ result: undefined, error }),
          ),
      );
      return { ...outcome, calls, taskQueue };
    }

    it('every partition scored on the scoring task queue, then one publish, then monitoring; never more partitions in flight than maxParallel', async () => {
      const { result, calls, taskQueue } = await scoreWith(null, 2);
      expect([...calls.queues]).to.deep.equal([`${taskQueue}-scoring`]);
      expect(result).to.deep.equal({
        runId: 7,
        customers: 60,
        monitoring: { reportId: 3, breaches: ['feature_drift'], opened: 1, resolved: 0 },
      });
      expect(calls.monitored).to.deep.equal([7]);
      expect([...calls.scored].sort()).to.deep.equal([0, 1, 2, 3, 4, 5]);
      expect(calls.published).to.equal(1);
      expect(calls.failed).to.deep.equal([]);
      expect(calls.maxInFlight).to.equal(2);
    });

    it('a partition that keeps failing is retried, then the run is marked failed and never published', async () => {
      const { error, calls } = await scoreWith(3);
      expect(error).to.be.instanceOf(WorkflowFailedError);
      expect(((error as WorkflowFailedError).cause as ApplicationFailure).type).to.equal(SCORING_RUN_FAILED);
      expect(calls.scored.filter((p) => p === 3)).to.have.length(3);
      expect(calls.published).to.equal(0);
      expect(calls.monitored).to.deep.equal([]);
      expect(calls.failed).to.have.length(1);
      expect(calls.failed[0]).to.match(/partition store unavailable/);
    });
  });

  describe('end to end (real Temporal, Postgres, libxgboost)', () => {
    let shop: IngestedShop;
    let previousRun: number;
    before(async function () {
      this.timeout(600_000);
      shop = await trainedShop(901);
      previousRun = (await scoreCustomers(shop.db, { asOf: new Date(shop.exportInstant.getTime() - 86_400_000) })).runId;
    });

    const connections: NativeConnection[] = [];
    after(async () => {
      for (const c of connections) await c.close();
    });
    /** A worker of its own connection, as a separate worker process would have (both of its queues, 2 partitions at once). */
    const worker = async (taskQueue: string, identity: string, activities?: Partial<Activities>) =>
      createForesightWorker(
        {
          ...createActivities(shop.db, {
            importDir: '/nonexistent',
            qualityRules: DEFAULT_QUALITY_RULES,
            secretKey: testSecretKey,
            identity,
          }),
          ...activities,
        },
        {
          connection: connections[connections.push(await NativeConnection.connect({ address: env.address })) - 1]!,
          taskQueue,
          identity,
          partitionsPerWorker: 2,
        },
      );

    it('two workers on one task queue share the partitions; exactly one row per customer, published at once', async () => {
      const before = await servedRuns(shop.db);
      expect(before.runIds).to.deep.equal([previousRun]);
      const [a, b] = await Promise.all([worker('scoring-two', 'worker-a'), worker('scoring-two', 'worker-b')]);
      const watch = watchServedRuns(shop.db);
      const handle = await env.client.workflow.start(scoringWorkflow, {
        taskQueue: 'scoring-two',
        workflowId: 'scoring-two-workers',
        args: [{ asOf: shop.exportInstant.toISOString(), partitionSize: 200 }],
      });
      const summary = await Promise.all([a.runUntil(handle.result()), b.runUntil(handle.result())]).then(([s]) => s);
      const seen = await watch.stop();
      await recordHistory(env, handle, 'scoring');

      const snapshot = await shop.db('feature_snapshot_headers').where({ as_of: shop.exportInstant }).first('customer_count');
      expect(summary.customers).to.equal(snapshot.customer_count);
      expect(summary.partitions).to.be.greaterThan(5);
      expect(await runCounts(shop.db, summary.runId)).to.deep.equal({ rows: summary.customers, customers: summary.customers });
      const partitions = await shop.db('scoring_run_partitions').where({ run_id: summary.runId }).select('scored_by', 'customers');
      expect(partitions).to.have.length(summary.partitions);
      expect(new Set(partitions.map((p) => p.scored_by))).to.deep.equal(new Set(['worker-a', 'worker-b']));
      // Readers saw the previous run whole, then the new one whole: never half a run.
      expect(seen).to.deep.equal([`${previousRun}:${before.rows}`, `${summary.runId}:${summary.customers}`]);
      const run = await shop.db('scoring_runs').where({ run_id: summary.runId }).first();
      expect(run.status).to.equal('published');
      expect(run.published_at).to.be.instanceOf(Date);
      // The workflow's last step monitored the published run against the previous one.
      const report = await shop
        .db('monitoring_reports')
        .where({ run_id: summary.runId })
        .first('report_id', 'reference_run_id', 'breaches');
      expect(summary.monitoring.reportId).to.equal(Number(report.report_id));
      expect(Number(report.reference_run_id)).to.equal(previousRun);
      expect(summary.monitoring.breaches).to.deep.equal(report.breaches);
    });

    it('a partition that keeps failing marks the run failed; the previous published run is still served', async () => {
      const before = await servedRuns(shop.db);
      const real = createActivities(shop.db, { importDir: '/nonexistent', qualityRules: DEFAULT_QUALITY_RULES, secretKey: testSecretKey });
      const w = await worker('scoring-failing', 'worker-f', {
        scorePartition: async (input) => {
          if (input.partition === 2) throw ApplicationFailure.retryable('disk full', 'DependencyError');
          return real.scorePartition(input);
        },
      });
      const error = await w.runUntil(
        env.client.workflow
          .execute(scoringWorkflow, {
            taskQueue: 'scoring-failing',
            workflowId: 'scoring-failing',
            args: [{ asOf: shop.exportInstant.toISOString(), partitionSize: 300 }],
          })
          .catch((err: unknown) => err),
      );
      expect(error).to.be.instanceOf(WorkflowFailedError);
      expect(((error as WorkflowFailedError).cause as ApplicationFailure).type).to.equal(SCORING_RUN_FAILED);
      const failed = await shop.db('scoring_runs').whereLike('run_key', 'scoring-failing/%').first();
      expect(failed.status).to.equal('failed');
      expect(failed.failure).to.match(/disk full/);
      expect(failed.published_at).to.equal(null);
      expect(await servedRuns(shop.db)).to.deep.equal(before);
    });

    it('a run dated in the future, or by a loose date, is refused and nothing is begun', async () => {
      const w = await worker('scoring-refused', 'worker-r');
      const runsBefore = await shop.db('scoring_runs').count({ n: '*' });
      const exported = await shop.db('ingest_batches').max({ at: 'exported_at' }).first();
      const afterData = new Date(new Date(exported!.at as Date).getTime() + 1000).toISOString();
      const asOfs = [new Date(Date.now() + 86_400_000).toISOString(), '1', '2026-02-30', afterData];
      const errors = await w.runUntil(
        Promise.all(
          asOfs.map((asOf, i) =>
            env.client.workflow
              .execute(scoringWorkflow, { taskQueue: 'scoring-refused', workflowId: `scoring-refused-${i}`, args: [{ asOf }] })
              .catch((err: unknown) => err),
          ),
        ),
      );
      errors.forEach((error, i) => {
        expect(error, asOfs[i]).to.be.instanceOf(WorkflowFailedError);
        const cause = (error as WorkflowFailedError).cause?.cause as ApplicationFailure;
        expect(cause.type, asOfs[i]).to.equal('ValidationError');
        expect(cause.message, asOfs[i]).to.match(/in the future|after the newest data|not an ISO date|no such calendar date/);
      });
      expect(await shop.db('scoring_runs').count({ n: '*' })).to.deep.equal(runsBefore);
    });
  });
});
