import { expect } from 'chai';
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import crypto from 'node:crypto';
import type { Activities } from '../../activities';
import { withFailureMapping } from '../../activities/failures';
import type { AttemptInput, AttemptResult } from '../../delivery/attempt';
import { enqueueEvent } from '../../delivery/outbox';
import { WebhookReceiver } from '../../delivery/receiver';
import { deliveryLog, listDeliveries, replayDelivery } from '../../delivery/replay';
import { setDeliveriesPaused } from '../../delivery/settings';
import { createSubscription } from '../../delivery/subscriptions';
import { webhookDeliveryWorkflow, webhookDispatchWorkflow } from '../../workflows';
import type { WebhookDeliveryInput } from '../../workflows/webhook-delivery';
import { freePort, until } from '../support/net';
import { freshDatabase, type TestDatabase } from '../support/db';
import { recordHistory } from '../support/histories';
import { startTemporal, testSecretKey, testWorker } from '../support/temporal';
import type { ForesightWorker } from '../../cli/worker';

const alice = { actor: 'alice', role: 'owner' as const };

/** The waits of a workflow's timers, in milliseconds, from its recorded history. */
async function timers(handle: WorkflowHandle): Promise<number[]> {
  const history = await handle.fetchHistory();
  return history.events!.filter((e) => e.timerStartedEventAttributes).map((e) => tsToMs(e.timerStartedEventAttributes!.startToFireTimeout));
}

describe('webhook delivery workflows (real Temporal dev server)', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTemporal();
  });
  after(async () => {
    await env?.teardown();
  });

  describe('retry and backoff branching (mocked activities)', () => {
    async function deliverWith(outcomes: AttemptResult['outcome'][], input: Partial<WebhookDeliveryInput>) {
      const attempts: AttemptInput[] = [];
      const deadLetters: number[] = [];
      const activities = withFailureMapping({
        attemptWebhookDelivery: async (a: AttemptInput): Promise<AttemptResult> => {
          attempts.push(a);
          return { outcome: outcomes[attempts.length - 1] ?? 'retry' };
        },
        deadLetterWebhookDelivery: async (d: { deliveryId: number }) => void deadLetters.push(d.deliveryId),
      }) as unknown as Activities;
      const taskQueue = `delivery-mock-${crypto.randomUUID()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowsPath: require.resolve('../../workflows'),
        activities,
      });
      const handle = await env.client.workflow.start(webhookDeliveryWorkflow, {
        taskQueue,
        workflowId: `delivery-mock-${crypto.randomUUID()}`,
        args: [{ deliveryId: 7, webhookId: 'msg_x', series: 1, ...input }],
      });
      const result = await worker.runUntil(handle.result());
      return { result, attempts: attempts.map((a) => a.attempt), deadLetters, timers: await timers(handle) };
    }

    it('retries on the schedule, each wait jittered within ±jitter, until delivered', async () => {
      const run = await deliverWith(['retry', 'retry', 'retry', 'delivered'], { retryScheduleSeconds: [0.2, 0.4, 0.8, 1.6], jitter: 0.5 });
      expect(run.result).to.deep.equal({ outcome: 'delivered', attempts: 4 });
      expect(run.attempts).to.deep.equal([1, 2, 3, 4]);
      expect(run.timers).to.have.length(3);
      [200, 400, 800].forEach((base, i) => expect(run.timers[i]).to.be.within(base * 0.5, base * 1.5));
      expect(run.timers.map((ms, i) => ms / [200, 400, 800][i]!)).not.to.deep.equal([1, 1, 1]);
      expect(run.deadLetters).to.deep.equal([]);
    });

    it('dead-letters after the last try (schedule length + 1 tries), with exact waits when jitter is 0', async () => {
      const run = await deliverWith([], { retryScheduleSeconds: [0.1, 0.3], jitter: 0 });
      expect(run.result).to.deep.equal({ outcome: 'dead_letter', attempts: 3 });
      expect(run.attempts).to.deep.equal([1, 2, 3]);
      expect(run.timers).to.deep.equal([100, 300]);
      expect(run.deadLetters).to.deep.equal([7]);
    });

    it('while paused it waits and asks again without spending an attempt', async () => {
      const run = await deliverWith(['paused', 'paused', 'retry', 'paused', 'delivered'], {
        retryScheduleSeconds: [0.1],
        jitter: 0,
        pausedRecheckSeconds: 0.2,
      });
      expect(run.result).to.deep.equal({ outcome: 'delivered', attempts: 2 });
      expect(run.attempts).to.deep.equal([1, 1, 1, 2, 2]);
      expect(run.timers).to.deep.equal([200, 200, 100, 200]);
    });

    it('410 Gone and a cancelled delivery stop at once', async () => {
      expect((await deliverWith(['gone'], {})).result).to.deep.equal({ outcome: 'gone', attempts: 1 });
      expect((await deliverWith(['retry', 'cancelled'], { retryScheduleSeconds: [0.1] })).result).to.deep.equal({
        outcome: 'cancelled',
        attempts: 2,
      });
    });
  });

  describe('end to end (real activities, Postgres and HTTP)', () => {
    let t: TestDatabase;
    let worker: ForesightWorker;
    let running: Promise<void>;
    let dispatcher: WorkflowHandle;
    const taskQueue = 'webhooks-real';
    const recorded: { name: string; workflowId: string }[] = [];

    before(async () => {
      t = await freshDatabase('webhook_workflows');
      worker = await testWorker(env, t.db, taskQueue);
      running = worker.run();
      dispatcher = await env.client.workflow.start(webhookDispatchWorkflow, {
        taskQueue,
        workflowId: 'webhook-dispatcher-test',
        args: [
          {
            pollSeconds: 0.3,
            delivery: { retryScheduleSeconds: [0.3, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], jitter: 0.3, pausedRecheckSeconds: 0.3 },
          },
        ],
      });
    });
    after(async () => {
      await dispatcher?.terminate('tests done').catch(() => undefined);
      worker?.shutdown();
      await running;
      // FORESIGHT_RECORD_HISTORIES=1 refreshes the fixtures of test/workflows/replay.test.ts from this run.
      for (const { name, workflowId } of recorded) await recordHistory(env, env.client.workflow.getHandle(workflowId), name);
      await t?.db.destroy();
    });

    async function subscribe(url: string, eventType: string) {
      return createSubscription(t.db, testSecretKey, { url, eventTypes: [eventType] }, alice);
    }
    async function enqueue(type: string, count: number, prefix: string) {
      for (let i = 0; i < count; i++)
        await t.db.transaction((trx) =>
          enqueueEvent(trx, { type, data: { actionId: `${prefix}-${i}`, amount: '25.00' }, dedupeKey: `${prefix}-${i}` }),
        );
    }
    async function deliveriesOfType(type: string) {
      return (await listDeliveries(t.db, { limit: 1000 })).filter((d) => d.eventType === type);
    }

    it('with the receiver down for a while and failing half the time, every event is delivered and each webhook-id processed once', async () => {
      const port = await freePort();
      const { secret } = await subscribe(`http://127.0.0.1:${port}/hooks`, 'chaos.test');
      const receiver = new WebhookReceiver({ secrets: [secret], failRate: 0.5, lostAckRate: 0.3, seed: 11 });
      await enqueue('chaos.test', 12, 'chaos');
      // Down: nothing listens for the first three seconds (connections refused), then the flaky receiver starts.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await receiver.listen(port);
      try {
        await until(
          'every chaos delivery',
          async () => (await deliveriesOfType('chaos.test')).filter((d) => d.status === 'delivered').length === 12,
          90_000,
        );
        const deliveries = await deliveriesOfType('chaos.test');
        const ids = deliveries.map((d) => d.webhookId).sort();
        expect(receiver.processed.map((m) => m.webhookId).sort()).to.deep.equal(ids);
        expect(new Set(receiver.processed.map((m) => (m.payload as { data: { actionId: string } }).data.actionId)).size).to.equal(12);
        // Answers lost after processing made Foresight send again with the same id; the receiver did not process twice.
        expect(receiver.counts.lostAcks).to.be.above(0);
        expect(receiver.counts.duplicates).to.equal(receiver.counts.lostAcks);
        expect(receiver.counts.failed).to.be.above(0);
        const attempts = (await Promise.all(deliveries.map((d) => deliveryLog(t.db, d.deliveryId)))).flatMap((l) => l.attempts);
        expect(attempts.filter((a) => a.statusCode === null && /ECONNREFUSED/.test(a.error ?? ''))).to.have.length.above(0);
        // Every request the receiver verified carried one of the twelve ids: retries never made a new one.
        const answered = attempts.filter((a) => a.statusCode !== null).length;
        expect([...receiver.requests.keys()].sort()).to.deep.equal(ids);
        expect([...receiver.requests.values()].reduce((a, b) => a + b, 0)).to.equal(answered);
        const mostTried = deliveries.reduce((a, b) => (b.attempts > a.attempts ? b : a));
        expect(mostTried.attempts).to.be.above(2);
        recorded.push({ name: 'webhook-delivery-retried', workflowId: `webhook-${mostTried.webhookId}-1` });
      } finally {
        await receiver.close();
      }
    });

    it('dead letter after the last try; a manual replay delivers it with the same webhook-id', async () => {
      const receiver = new WebhookReceiver({ secrets: ['placeholder'] });
      const port = await receiver.listen();
      const { secret } = await subscribe(`http://127.0.0.1:${port}/`, 'dead.test');
      receiver.options.secrets = [secret];
      receiver.options.downUntil = Date.now() + 3_600_000;
      try {
        await enqueue('dead.test', 1, 'dead');
        await until('the dead letter', async () => (await deliveriesOfType('dead.test'))[0]?.status === 'dead_letter', 120_000);
        const [dead] = await deliveriesOfType('dead.test');
        const tries = 15; // the schedule above has 14 waits
        const log = await deliveryLog(t.db, dead!.deliveryId);
        expect(log.attempts).to.have.length(tries);
        expect(log.attempts.every((a) => a.statusCode === 503 && a.outcome === 'retry' && a.series === 1)).to.equal(true);
        expect(receiver.processed).to.have.length(0);

        receiver.options.downUntil = 0;
        await replayDelivery(t.db, dead!.deliveryId, 'receiver fixed', alice);
        await until('the replay', async () => (await deliveriesOfType('dead.test'))[0]?.status === 'delivered', 90_000);
        expect(receiver.processed.map((m) => m.webhookId)).to.deep.equal([dead!.webhookId]);
        const replayed = await deliveryLog(t.db, dead!.deliveryId);
        expect(replayed.delivery).to.include({ series: 2, attempts: tries + 1, status: 'delivered' });
        expect(replayed.attempts.at(-1)).to.include({ series: 2, attempt: 1, statusCode: 200, outcome: 'delivered' });
        recorded.push({ name: 'webhook-delivery-dead-letter', workflowId: `webhook-${dead!.webhookId}-1` });
        recorded.push({ name: 'webhook-delivery-replayed', workflowId: `webhook-${dead!.webhookId}-2` });
      } finally {
        await receiver.close();
      }
    });

    it('the kill switch holds deliveries (pending, nothing sent) and they resume when it is lifted', async () => {
      const receiver = new WebhookReceiver({ secrets: ['placeholder'] });
      const port = await receiver.listen();
      const { secret } = await subscribe(`http://127.0.0.1:${port}/`, 'paused.test');
      receiver.options.secrets = [secret];
      try {
        await setDeliveriesPaused(t.db, true, 'campaign system incident', alice);
        await enqueue('paused.test', 3, 'paused');
        await until(
          'three deliveries started',
          async () => {
            const deliveries = await t
              .db('webhook_deliveries as d')
              .join('webhook_events as e', 'e.event_id', 'd.event_id')
              .where({ type: 'paused.test' });
            return deliveries.length === 3 && deliveries.every((d) => d.started_series === 1);
          },
          90_000,
        );
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        expect((await deliveriesOfType('paused.test')).map((d) => [d.status, d.attempts])).to.deep.equal([
          ['pending', 0],
          ['pending', 0],
          ['pending', 0],
        ]);
        expect(receiver.requests.size).to.equal(0);
        await setDeliveriesPaused(t.db, false, 'incident over', alice);
        await until(
          'the held deliveries',
          async () => (await deliveriesOfType('paused.test')).every((d) => d.status === 'delivered'),
          30_000,
        );
        expect(receiver.processed).to.have.length(3);
        expect((await deliveriesOfType('paused.test')).map((d) => d.attempts)).to.deep.equal([1, 1, 1]);
        recorded.push({
          name: 'webhook-delivery-paused',
          workflowId: `webhook-${(await deliveriesOfType('paused.test'))[0]!.webhookId}-1`,
        });
      } finally {
        await receiver.close();
      }
    });
  });
});
