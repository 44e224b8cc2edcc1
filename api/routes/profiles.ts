import type { Express } from 'express';
import { z } from 'zod';
import type { RouteContext } from '../route-context';
import { resolveCustomerId } from '../../scoring/profile-freshness';
import { ROLES } from '../../lib/roles';
import { ValidationError } from '../../lib/errors';
import { defineRoute, JsonText } from '../openapi';
import { customerIdParam, parseWith } from '../validate';

const include = z
  .string()
  .regex(/^embedding(,embedding)*$/, 'the only optional part is "embedding"')
  .optional();
// Comma-separated optional parts; only the embedding is optional today.
const profileQuery = z.object({ include }).strict();
const lookupQuery = z
  .object({
    external_id: z.string().min(1).max(200).optional(),
    source: z.string().min(1).max(100).optional(),
    email: z.string().min(3).max(320).optional(),
    include,
  })
  .strict();

const similarQuery = z.object({ k: z.coerce.number().int().min(1).max(100).default(10) }).strict();

/** Every role reads profiles: a campaign system's key (service) too, to personalise what it sends. */
const PROFILE_READERS = [...ROLES];

export function profileRoutes(app: Express, ctx: RouteContext): void {
  const { db, similarCustomers, similarRateLimit, servedProfiles } = ctx;
  /** The profile, its staleness (with the rule-based fallback when stale) and the customer's open actions. */
  const fullProfile = async (id: string, embedding: boolean, since: number) =>
    new JsonText(await servedProfiles.json(id, { embedding, since }));

  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/customer/profile/:id',
      summary: "A customer's predictive profile, its staleness (with a rule-based fallback) and open actions",
      roles: [...PROFILE_READERS],
      query: profileQuery,
    },
    async ({ params, query, res }) => fullProfile(customerIdParam(params.id), query.include !== undefined, res.locals.receivedAt),
  );

  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/customer/profile',
      summary: 'The same profile found by ?external_id=&source= or ?email= through identities',
      roles: [...PROFILE_READERS],
      query: lookupQuery,
    },
    async ({ query, res }) => {
      let id: string;
      if (query.email !== undefined && query.external_id === undefined && query.source === undefined)
        id = await resolveCustomerId(db, { email: query.email });
      else if (query.external_id !== undefined && query.source !== undefined && query.email === undefined)
        id = await resolveCustomerId(db, { externalId: query.external_id, source: query.source });
      else throw new ValidationError('Find a customer by external_id and source together, or by email', 'query');
      return fullProfile(id, query.include !== undefined, res.locals.receivedAt);
    },
  );

  // Look-alike audiences are a marketing tool; support and finance have no use for them.
  app.get('/customer/profile/:id/similar', ctx.auth.allow('marketing', 'owner', 'ml'), similarRateLimit, async (req, res) => {
    const id = customerIdParam(req.params.id);
    const { k } = parseWith(similarQuery, req.query, 'query');
    const { asOf, similar } = await similarCustomers.find(id, k);
    res.json({ customerId: id, asOf, k, similar });
  });
  ctx.docs.add({
    method: 'get',
    path: '/customer/profile/:id/similar',
    summary: 'Look-alike customers (rate-limited per key)',
    access: ['marketing', 'owner', 'ml'],
    query: similarQuery,
  });
}
