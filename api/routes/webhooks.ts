import type { Express } from 'express';
import { z } from 'zod';
import { deliveryLog, listDeliveries, replayDelivery } from '../../delivery/replay';
import { createSubscription, deactivateSubscription, listSubscriptions, rotateSecret } from '../../delivery/subscriptions';
import { DependencyError } from '../../lib/errors';
import type { Principal } from '../locals';
import { defineRoute } from '../openapi';
import type { RouteContext } from '../route-context';
import { positiveIntParam } from '../validate';

const reason = z.string().trim().min(1).max(1000);
const by = (p: Principal) => ({ actor: p.name, role: p.role });

const subscriptionBody = z
  .object({
    url: z.string().min(1).max(2000),
    eventTypes: z.array(z.string().min(1).max(200)).min(1).max(50),
    description: z.string().max(1000).optional(),
  })
  .strict();
const rotateBody = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86400)
      .optional(),
  })
  .strict();
const deliveriesQuery = z
  .object({
    status: z.enum(['pending', 'delivered', 'dead_letter', 'cancelled']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
const limitQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();

/** Subscriptions hold secrets and say where decisions go: the owner and the administrator manage them. */
const MANAGERS = ['owner', 'admin'] as const;
const READERS = ['owner', 'admin', 'marketing', 'service'] as const;

export function webhookRoutes(app: Express, ctx: RouteContext): void {
  const { db } = ctx;
  const key = () => {
    if (!ctx.secretKey) throw new DependencyError('Webhook secrets need FORESIGHT_SECRET_KEY, which this API was started without');
    return ctx.secretKey;
  };
  defineRoute(
    app,
    ctx,
    { method: 'get', path: '/webhooks/subscriptions', summary: 'Webhook subscriptions (never their secrets)', roles: [...READERS] },
    async () => ({
      subscriptions: await listSubscriptions(db),
    }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/webhooks/subscriptions',
      summary: 'Subscribe a URL to event types; the secret is in this answer only',
      roles: [...MANAGERS],
      body: subscriptionBody,
      status: 201,
    },
    async ({ body, res }) => createSubscription(db, key(), body, by(res.locals.principal!)),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/webhooks/subscriptions/:subscriptionId/rotate',
      summary: 'A new secret; the old one keeps signing beside it for the overlap (default a day)',
      roles: [...MANAGERS],
      body: rotateBody,
    },
    async ({ params, body, res }) => {
      // The request's own faults (a bad id) answer 400 before the server's missing key answers 503.
      const subscriptionId = positiveIntParam(params.subscriptionId, 'subscriptionId');
      return rotateSecret(db, key(), subscriptionId, by(res.locals.principal!), body);
    },
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/webhooks/subscriptions/:subscriptionId/deactivate',
      summary: 'Stop delivering to a subscription, with a reason (the row is kept)',
      roles: [...MANAGERS],
      body: z.object({ reason }).strict(),
    },
    async ({ params, body, res }) => ({
      subscription: await deactivateSubscription(
        db,
        positiveIntParam(params.subscriptionId, 'subscriptionId'),
        body.reason,
        by(res.locals.principal!),
      ),
    }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/webhooks/deliveries',
      summary: 'Deliveries, newest first, optionally of one status',
      roles: [...READERS],
      query: deliveriesQuery,
    },
    async ({ query }) => ({
      deliveries: await listDeliveries(db, query),
    }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/webhooks/deliveries/:deliveryId',
      summary: "One delivery and every attempt with the receiver's answer",
      roles: [...READERS],
    },
    async ({ params }) => deliveryLog(db, positiveIntParam(params.deliveryId, 'deliveryId')),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/webhooks/dead-letters',
      summary: 'Deliveries that failed their last try',
      roles: [...READERS],
      query: limitQuery,
    },
    async ({ query }) => ({
      deliveries: await listDeliveries(db, { status: 'dead_letter', limit: query.limit }),
    }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/webhooks/deliveries/:deliveryId/replay',
      summary: 'A new series of tries with the same webhook-id, with a reason',
      roles: [...MANAGERS],
      body: z.object({ reason }).strict(),
    },
    async ({ params, body, res }) => ({
      delivery: await replayDelivery(db, positiveIntParam(params.deliveryId, 'deliveryId'), body.reason, by(res.locals.principal!)),
    }),
  );
}
