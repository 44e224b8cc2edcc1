import { expect } from 'chai';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { attemptDelivery } from '../../delivery/attempt';
import { deliveriesToStart, enqueueEvent, fanOutEvents } from '../../delivery/outbox';
import { WebhookReceiver } from '../../delivery/receiver';
import { deliveryLog } from '../../delivery/replay';
import { deliveriesPaused, setDeliveriesPaused } from '../../delivery/settings';
import { createSubscription, deactivateSubscription, rotateSecret, SECRET_PURPOSE } from '../../delivery/subscriptions';
import { webhookHeaders } from '../../delivery/signing';
import { ConfigError, ConflictError, ValidationError } from '../../lib/errors';
import { open } from '../../lib/secret-box';
import { freshDatabase, type TestDatabase } from '../support/db';

const key = crypto.randomBytes(32);
const alice = { actor: 'alice', role: 'owner' as const };

interface Captured {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A bare HTTP server that keeps every request as it arrived and answers `status` (no verification of its own). */
async function captureServer(status = 200) {
  const requests: Captured[] = [];
  const answer = { status };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(`answered ${answer.status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, requests, answer, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** What a receiver computes by hand from the spec: base64(HMAC-SHA256(base64-decoded secret, `id.timestamp.body`)). */
function specSignature(secret: string, id: string, timestamp: string, body: string): string {
  const bytes = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${crypto.createHmac('sha256', bytes).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

describe('webhooks: subscriptions, outbox, signing, attempts (real Postgres and HTTP)', function () {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('webhooks');
  });
  after(async () => {
    await t?.db.destroy();
  });

  /** One event fanned out to the subscriptions; returns the new delivery ids. */
  async function deliveriesOf(type: string, data: Record<string, unknown>, dedupeKey: string) {
    await t.db.transaction((trx) => enqueueEvent(trx, { type, data, dedupeKey }));
    await fanOutEvents(t.db);
    const due = await deliveriesToStart(t.db);
    const ids = due.map((d) => d.deliveryId);
    await t.db('webhook_deliveries').whereIn('delivery_id', ids).update({ started_series: 1 });
    return due;
  }

  it("enqueueEvent writes in the caller's transaction: a rollback leaves no event; the same dedupeKey is one event", async () => {
    await t.db
      .transaction(async (trx) => {
        await enqueueEvent(trx, { type: 'action.approved', data: { actionId: 1 }, dedupeKey: 'rolled-back' });
        throw new Error('the decision failed');
      })
      .catch(() => undefined);
    expect(await t.db('webhook_events').where({ dedupe_key: 'rolled-back' })).to.have.length(0);
    const first = await t.db.transaction((trx) => enqueueEvent(trx, { type: 'action.approved', data: { actionId: 2 }, dedupeKey: 'a2' }));
    const again = await t.db.transaction((trx) => enqueueEvent(trx, { type: 'action.approved', data: { actionId: 2 }, dedupeKey: 'a2' }));
    expect(again.eventId)
      .to.equal(first.eventId)
      .and.match(/^evt_[0-9a-f]{32}$/);
    const other = await t.db
      .transaction((trx) => enqueueEvent(trx, { type: 'action.rejected', data: {}, dedupeKey: 'a2' }))
      .catch((e: unknown) => e);
    expect(other).to.be.instanceOf(ConflictError);
    const bad = await t.db.transaction((trx) => enqueueEvent(trx, { type: 'Bad Type', data: {}, dedupeKey: 'x' })).catch((e: unknown) => e);
    expect(bad).to.be.instanceOf(ValidationError).with.property('field', 'type');
  });

  it('a subscription secret is shown once, stored sealed (not in clear), and refused under another key; changes are audited', async () => {
    const { subscription, secret } = await createSubscription(
      t.db,
      key,
      { url: 'http://127.0.0.1:1/x', eventTypes: ['action.approved'] },
      alice,
    );
    expect(secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const row = await t.db('webhook_subscriptions').where({ subscription_id: subscription.subscriptionId }).first();
    expect(JSON.stringify(row)).not.to.contain(secret.slice(6, 20));
    expect(open(key, SECRET_PURPOSE, row.secret_encrypted)).to.equal(secret);
    expect(() => open(crypto.randomBytes(32), SECRET_PURPOSE, row.secret_encrypted)).to.throw(ConfigError, /FORESIGHT_SECRET_KEY/);
    await deactivateSubscription(t.db, subscription.subscriptionId, 'test done', alice);
    const audit = await t
      .db('audit_log')
      .where({ target: `webhook_subscription:${subscription.subscriptionId}` })
      .orderBy('id');
    expect(audit.map((a) => a.action)).to.deep.equal(['webhook_subscription.create', 'webhook_subscription.deactivate']);
    expect(JSON.stringify(audit)).not.to.contain(secret.slice(6, 20));
    const bad = await createSubscription(t.db, key, { url: 'ftp://x', eventTypes: ['a'] }, alice).catch((e: unknown) => e);
    expect(bad).to.be.instanceOf(ValidationError).with.property('field', 'url');
  });

  it('the headers verify by hand from the spec, with the standardwebhooks library, and with the receiver', async () => {
    const capture = await captureServer(200);
    try {
      const { subscription, secret } = await createSubscription(t.db, key, { url: capture.url, eventTypes: ['sig.test'] }, alice);
      const [delivery] = await deliveriesOf('sig.test', { customerId: 'C1', amount: '12.50' }, 'sig-1');
      const result = await attemptDelivery(t.db, key, { ...delivery!, attempt: 1 });
      expect(result.outcome).to.equal('delivered');
      const [request] = capture.requests;
      const id = request!.headers['webhook-id'] as string;
      const timestamp = request!.headers['webhook-timestamp'] as string;
      const signature = request!.headers['webhook-signature'] as string;
      expect(id)
        .to.equal(delivery!.webhookId)
        .and.match(/^msg_[0-9a-f]{32}$/);
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).to.be.below(10);
      expect(signature).to.equal(specSignature(secret, id, timestamp, request!.body));
      const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
      expect(new Webhook(secret).verify(request!.body, headers)).to.deep.include({
        type: 'sig.test',
        data: { customerId: 'C1', amount: '12.50' },
      });
      expect(new WebhookReceiver({ secrets: [secret] }).verify(request!.body, headers)).to.equal(true);
      expect(new WebhookReceiver({ secrets: [secret] }).verify(request!.body.replace('12.50', '99.50'), headers)).to.equal(false);
      await deactivateSubscription(t.db, subscription.subscriptionId, 'test done', alice);
    } finally {
      await capture.close();
    }
  });

  it('rotation: during the overlap both secrets verify, after it only the new one', async () => {
    const capture = await captureServer(200);
    try {
      const created = await createSubscription(t.db, key, { url: capture.url, eventTypes: ['rotation.test'] }, alice);
      const rotated = await rotateSecret(t.db, key, created.subscription.subscriptionId, alice, { overlapSeconds: 2 });
      expect(rotated.secret).not.to.equal(created.secret);
      const [during] = await deliveriesOf('rotation.test', { n: 1 }, 'rotation-1');
      await attemptDelivery(t.db, key, { ...during!, attempt: 1 });
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const [afterOverlap] = await deliveriesOf('rotation.test', { n: 2 }, 'rotation-2');
      await attemptDelivery(t.db, key, { ...afterOverlap!, attempt: 1 });

      const verifies = (secret: string, r: Captured) =>
        new WebhookReceiver({ secrets: [secret] }).verify(r.body, r.headers as Record<string, string>);
      const [first, second] = capture.requests;
      expect((first!.headers['webhook-signature'] as string).split(' ')).to.have.length(2);
      expect(verifies(created.secret, first!)).to.equal(true);
      expect(verifies(rotated.secret, first!)).to.equal(true);
      expect((second!.headers['webhook-signature'] as string).split(' ')).to.have.length(1);
      expect(verifies(created.secret, second!)).to.equal(false);
      expect(verifies(rotated.secret, second!)).to.equal(true);
      await deactivateSubscription(t.db, created.subscription.subscriptionId, 'test done', alice);
    } finally {
      await capture.close();
    }
  });

  it('the receiver refuses bad and expired signatures with 401, processes an id once, and can be down (503)', async () => {
    const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
    const receiver = new WebhookReceiver({ secrets: [secret] });
    const url = `http://127.0.0.1:${await receiver.listen()}/`;
    try {
      const post = (headers: Record<string, string>, body: string) =>
        fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body }).then((r) => r.status);
      const body = JSON.stringify({ type: 't', data: { n: 1 } });
      const now = new Date();
      expect(await post(webhookHeaders([secret], 'msg_1', now, body), body)).to.equal(200);
      expect(await post(webhookHeaders([secret], 'msg_1', now, body), body)).to.equal(200);
      expect(await post(webhookHeaders([secret], 'msg_2', now, body), body.replace('1', '2'))).to.equal(401);
      const other = `whsec_${crypto.randomBytes(32).toString('base64')}`;
      expect(await post(webhookHeaders([other], 'msg_3', now, body), body)).to.equal(401);
      expect(await post(webhookHeaders([secret], 'msg_4', new Date(Date.now() - 10 * 60_000), body), body)).to.equal(401);
      expect(await post({}, body)).to.equal(401);
      receiver.options.downUntil = Date.now() + 60_000;
      expect(await post(webhookHeaders([secret], 'msg_5', now, body), body)).to.equal(503);
      expect(receiver.processed.map((m) => m.webhookId)).to.deep.equal(['msg_1']);
      expect(receiver.counts).to.include({ duplicates: 1, refused: 4, down: 1 });
    } finally {
      await receiver.close();
    }
  });

  it('every attempt is logged; a retried attempt is not sent twice; 410 deactivates the subscription', async () => {
    const capture = await captureServer(500);
    try {
      const { subscription } = await createSubscription(t.db, key, { url: capture.url, eventTypes: ['gone.test'] }, alice);
      const [delivery] = await deliveriesOf('gone.test', {}, 'gone-1');
      expect(await attemptDelivery(t.db, key, { ...delivery!, attempt: 1 })).to.include({ outcome: 'retry', statusCode: 500 });
      expect(await attemptDelivery(t.db, key, { ...delivery!, attempt: 1 })).to.include({ outcome: 'retry', statusCode: 500 });
      expect(capture.requests).to.have.length(1);
      capture.answer.status = 410;
      expect(await attemptDelivery(t.db, key, { ...delivery!, attempt: 2 })).to.include({ outcome: 'gone', statusCode: 410 });
      const log = await deliveryLog(t.db, delivery!.deliveryId);
      expect(log.delivery).to.include({ status: 'cancelled', cancelledReason: 'receiver answered 410 Gone', attempts: 2 });
      expect(log.attempts.map((a) => [a.attempt, a.statusCode, a.outcome, a.responseExcerpt])).to.deep.equal([
        [1, 500, 'retry', 'answered 500'],
        [2, 410, 'gone', 'answered 410'],
      ]);
      const sub = await t.db('webhook_subscriptions').where({ subscription_id: subscription.subscriptionId }).first();
      expect(sub).to.include({ active: false, deactivated_reason: 'receiver answered 410 Gone' });
      const refused = await t
        .db('webhook_delivery_attempts')
        .where({ delivery_id: delivery!.deliveryId })
        .del()
        .catch((e: Error) => e);
      expect(refused)
        .to.be.instanceOf(Error)
        .with.property('message')
        .that.matches(/append-only/);
    } finally {
      await capture.close();
    }
  });

  it('the kill switch: a paused attempt sends nothing and spends no attempt; the switch is audited', async () => {
    const capture = await captureServer(200);
    try {
      const { subscription } = await createSubscription(t.db, key, { url: capture.url, eventTypes: ['pause.test'] }, alice);
      const [delivery] = await deliveriesOf('pause.test', {}, 'pause-1');
      await setDeliveriesPaused(t.db, true, 'incident 42', alice);
      expect(await deliveriesPaused(t.db)).to.equal(true);
      expect(await attemptDelivery(t.db, key, { ...delivery!, attempt: 1 })).to.deep.equal({ outcome: 'paused' });
      expect(capture.requests).to.have.length(0);
      await setDeliveriesPaused(t.db, false, 'incident 42 resolved', alice);
      expect(await attemptDelivery(t.db, key, { ...delivery!, attempt: 1 })).to.include({ outcome: 'delivered' });
      expect(capture.requests).to.have.length(1);
      const audit = await t.db('audit_log').where({ target: 'delivery_settings' }).orderBy('id');
      expect(audit.map((a) => [a.action, a.details.reason])).to.deep.equal([
        ['deliveries.pause', 'incident 42'],
        ['deliveries.resume', 'incident 42 resolved'],
      ]);
      await deactivateSubscription(t.db, subscription.subscriptionId, 'test done', alice);
    } finally {
      await capture.close();
    }
  });
});
