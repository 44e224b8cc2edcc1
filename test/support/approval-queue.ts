import { expect } from 'chai';
import type { Knex } from 'knex';
import { WebhookReceiver } from '../../delivery/receiver';
import { DEFAULT_PARAMETERS, DEFAULT_POLICY_KEY, DEFAULT_RULES } from '../../policy/default-policy';
import { activate, approve, createDraft } from '../../policy/lifecycle';
import { call } from './http';
import { freePort } from './net';
import { insertScoredCustomers } from './scored-customers';

/**
 * A verifying receiver subscribed to `action.approved` (or other event types) over the API (as an admin would): the
 * subscription's secret comes back once, and the receiver verifies with it.
 */
export async function subscribedReceiver(serverUrl: string, adminKey: string, eventTypes = ['action.approved']): Promise<WebhookReceiver> {
  const receiver = new WebhookReceiver({ secrets: ['placeholder'] });
  const port = await receiver.listen(await freePort());
  const sub = await call(serverUrl, 'POST', '/webhooks/subscriptions', {
    key: adminKey,
    json: { url: `http://127.0.0.1:${port}/hooks`, eventTypes },
  });
  expect(sub.status, sub.text).to.equal(201);
  receiver.options.secrets = [sub.body.secret];
  return receiver;
}

/**
 * Six scored at-risk customers and the default policy, active, with no holdout and retention offers of 20.00 or more
 * routed to a person: an evaluation then leaves offers waiting in the approval queue.
 */
export async function activeQueuingPolicy(db: Knex): Promise<void> {
  await insertScoredCustomers(
    db,
    Array.from({ length: 6 }, (_, i) => ({
      id: `cust-${i + 1}`,
      churn: 0.8,
      clv: '800.00',
      clvLower: '600.00',
      pAlive: 0.6,
      segment: 'At risk',
      confidence: 'high' as const,
    })),
  );
  const draft = await createDraft(
    db,
    {
      policyKey: DEFAULT_POLICY_KEY,
      rules: DEFAULT_RULES,
      parameters: {
        ...DEFAULT_PARAMETERS,
        holdoutRate: 0,
        impactTiers: { minIncentive: '20.00', minClv: null, actionTypes: [], whileAlertOpen: false, escalateAfterHours: 24 },
      },
    },
    { name: 'alice', role: 'owner' },
  );
  await approve(db, draft.versionId, { name: 'bob', role: 'owner' });
  await activate(db, draft.versionId, { name: 'bob', role: 'owner' });
}
