import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { expect } from 'chai';
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { loadConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { scoringWorkflow, webhookDispatchWorkflow } from '../../workflows';
import { WEBHOOK_DISPATCHER_ID } from '../../workflows/webhook-dispatch';
import { until } from '../support/net';
import { runCounts } from '../support/scoring';
import { startWorkerProcess, workerProcessStage } from '../support/worker-process';

interface ActivityRun {
  type: string;
  taskQueue: string;
  /** When the worker took the task (its last attempt) and when the server heard it complete, per Temporal's history. */
  startedAt: number;
  completedAt: number;
}

/** Every completed activity of a workflow, as its event history records them. */
async function activityRuns(handle: WorkflowHandle): Promise<ActivityRun[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const byScheduled = new Map<string, Partial<ActivityRun>>();
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      byScheduled.set(String(e.eventId), { type: a.activityType!.name!, taskQueue: a.taskQueue!.name! });
    } else if (e.activityTaskStartedEventAttributes) {
      byScheduled.get(String(e.activityTaskStartedEventAttributes.scheduledEventId))!.startedAt = tsToMs(e.eventTime);
    } else if (e.activityTaskCompletedEventAttributes) {
      byScheduled.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId))!.completedAt = tsToMs(e.eventTime);
    }
  }
  return [...byScheduled.values()].filter((r): r is ActivityRun => r.completedAt !== undefined);
}

describe('FORESIGHT_SCORING_PARTITIONS_PER_WORKER', () => {
  it('defaults to 2, takes a whole number from 1 to 100, and refuses anything else naming the variable', () => {
    expect(loadConfig({}).scoring.partitionsPerWorker).to.equal(2);
    expect(loadConfig({ FORESIGHT_SCORING_PARTITIONS_PER_WORKER: '1' }).scoring.partitionsPerWorker).to.equal(1);
    expect(loadConfig({ FORESIGHT_SCORING_PARTITIONS_PER_WORKER: '100' }).scoring.partitionsPerWorker).to.equal(100);
    for (const bad of ['0', '-1', '1.5', 'two', '101', ''])
      expect(() => loadConfig({ FORESIGHT_SCORING_PARTITIONS_PER_WORKER: bad }), bad)
        .to.throw(ConfigError)
        .with.property('message')
        .that.matches(/FORESIGHT_SCORING_PARTITIONS_PER_WORKER/);
  });
});

/** Fails once `child` exits (a worker process that dies must fail the test, not hang it). */
function exited(child: ChildProcess): Promise<never> {
  return new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`foresight worker exited (${code})`))));
}

describe('scoring partitions on their own task queue, at most FORESIGHT_SCORING_PARTITIONS_PER_WORKER per worker process', function () {
  this.timeout(600_000);
  const stage = workerProcessStage(904);

  it('one `foresight worker` at 1 partition takes one partition at a time, while its main queue still runs the webhook dispatcher', async () => {
    const { env, shop, workers } = stage;
    const taskQueue = `scoring-queue-${process.pid}`;
    // The dispatcher `foresight worker` would start, passing every 0.2 s instead of every 5 s (the dev server fires
    // timers about once a second): its activities are the main queue's small work that must not wait behind scoring.
    const dispatcher = await env.client.workflow.start(webhookDispatchWorkflow, {
      taskQueue,
      workflowId: WEBHOOK_DISPATCHER_ID,
      args: [{ pollSeconds: 0.2 }],
    });
    const worker = startWorkerProcess(shop, env, taskQueue, { FORESIGHT_SCORING_PARTITIONS_PER_WORKER: '1' });
    workers.push(worker);
    const workerExit = exited(worker);
    // Partitions record themselves last, in their writing transaction: while this lock is held, the partition the
    // worker took cannot finish, and its one scoring slot stays taken.
    const lock = await shop.db.transaction();
    await lock.raw('lock table scoring_run_partitions in share mode');
    const handle = await env.client.workflow.start(scoringWorkflow, {
      taskQueue,
      workflowId: 'scoring-one-at-a-time',
      // Four partitions offered at once: the worker must still take them one by one.
      args: [{ asOf: shop.exportInstant.toISOString(), partitionSize: 100, maxParallel: 4 }],
    });
    const waitingOnLock = () =>
      shop
        .db('pg_stat_activity')
        .where({ wait_event_type: 'Lock' })
        .whereLike('query', 'insert into scoring_run_partitions%')
        .count({ n: '*' });
    await Promise.race([workerExit, until('a partition waiting for the lock', async () => Number((await waitingOnLock())[0]!.n) > 0)]);
    const blockedAt = Date.now();
    await Promise.race([
      workerExit,
      until('two dispatcher passes while the partition is held', async () => {
        const passes = (await activityRuns(dispatcher)).filter((r) => r.type === 'dispatchWebhookEvents' && r.startedAt > blockedAt);
        return passes.length >= 2;
      }),
    ]);
    // Still one partition held, no other taken (they wait on the scoring queue); then let the run finish.
    expect((await waitingOnLock())[0]!.n).to.equal('1');
    await lock.commit();
    const summary = await Promise.race([workerExit, handle.result()]);
    await dispatcher.terminate('test over');

    expect(await runCounts(shop.db, summary.runId)).to.deep.equal({ rows: summary.customers, customers: summary.customers });
    expect(summary.partitions).to.be.at.least(20);
    const partitions = (await activityRuns(handle)).filter((r) => r.type === 'scorePartition').sort((a, b) => a.startedAt - b.startedAt);
    expect(partitions).to.have.length(summary.partitions);
    expect(new Set(partitions.map((p) => p.taskQueue))).to.deep.equal(new Set([`${taskQueue}-scoring`]));
    // Never two partitions held by the worker at once: each is taken only after the one before it completed.
    const overlaps = partitions.slice(1).filter((p, i) => p.startedAt < partitions[i]!.completedAt);
    expect(overlaps, JSON.stringify(partitions)).to.deep.equal([]);

    // The main queue's activities were taken and completed while the worker's one partition slot was taken.
    const held = partitions[0]!;
    const passes = (await activityRuns(dispatcher)).filter((r) => r.type === 'dispatchWebhookEvents');
    expect(new Set(passes.map((p) => p.taskQueue))).to.deep.equal(new Set([taskQueue]));
    const duringHeld = passes.filter((d) => held.startedAt < d.startedAt && d.completedAt < held.completedAt);
    expect(duringHeld.length, JSON.stringify({ passes, held })).to.be.at.least(2);
  });

  it('`foresight worker --only scoring` scores partitions beside a full worker, and polls no other queue', async () => {
    const { env, shop, workers } = stage;
    const taskQueue = `scoring-only-${process.pid}`;
    const full = startWorkerProcess(shop, env, taskQueue, { FORESIGHT_SCORING_PARTITIONS_PER_WORKER: '1' });
    const scoringOnly = startWorkerProcess(shop, env, taskQueue, { FORESIGHT_SCORING_PARTITIONS_PER_WORKER: '1' }, ['--only', 'scoring']);
    workers.push(full, scoringOnly);
    let said = '';
    let logged = '';
    scoringOnly.stdout!.on('data', (d: Buffer) => (said += d.toString()));
    scoringOnly.stderr!.on('data', (d: Buffer) => (logged += d.toString()));
    const summary = await Promise.race([
      exited(full),
      exited(scoringOnly),
      env.client.workflow.execute(scoringWorkflow, {
        taskQueue,
        workflowId: 'scoring-beside-scoring-only',
        args: [{ asOf: shop.exportInstant.toISOString(), partitionSize: 100, maxParallel: 4 }],
      }),
    ]);
    // A Worker without workflows is what it is meant to be: Temporal's warning about it is not shown.
    expect(logged).to.not.match(/No workflows registered/);
    expect(said).to.include(`Scoring worker on task queue "${taskQueue}-scoring" (at most 1 partition at once)`);
    expect(await runCounts(shop.db, summary.runId)).to.deep.equal({ rows: summary.customers, customers: summary.customers });
    const scoredBy = await shop.db('scoring_run_partitions').where({ run_id: summary.runId }).distinct('scored_by');
    expect(scoredBy.map((r) => r.scored_by as string).sort()).to.deep.equal(
      [`${os.hostname()}:${full.pid}`, `${os.hostname()}:${scoringOnly.pid}`].sort(),
    );
    // Its pollers: the scoring queue's only (TaskQueueType 1 is workflow tasks, 2 activity tasks).
    const pollers = async (queue: string, taskQueueType: 1 | 2) =>
      (
        await env.client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: queue }, taskQueueType })
      ).pollers!.map((p) => p.identity!);
    const identity = `${scoringOnly.pid}@${os.hostname()}`;
    expect(await pollers(`${taskQueue}-scoring`, 2)).to.include(identity);
    for (const type of [1, 2] as const) {
      const main = await pollers(taskQueue, type);
      expect(main).to.include(`${full.pid}@${os.hostname()}`);
      expect(main).to.not.include(identity);
    }
  });
});
