import type { Express } from 'express';
import { z } from 'zod';
import type { RouteContext } from '../route-context';
import { profileDocument } from '../../scoring/profile-document';
import { ROLES } from '../../lib/roles';
import { customerIdParam, parseWith } from '../validate';

const profileQuery = z
  .object({
    // Comma-separated optional parts; only the embedding is optional today.
    include: z
      .string()
      .regex(/^embedding(,embedding)*$/, 'the only optional part is "embedding"')
      .optional(),
  })
  .strict();

const similarQuery = z.object({ k: z.coerce.number().int().min(1).max(100).default(10) }).strict();

export function profileRoutes(app: Express, { db, auth, similarCustomers, similarRateLimit }: RouteContext): void {
  app.get('/customer/profile/:id', auth.allow(...ROLES), async (req, res) => {
    const id = customerIdParam(req.params.id);
    const query = parseWith(profileQuery, req.query, 'query');
    res.json(await profileDocument(db, id, { embedding: query.include !== undefined }));
  });

  // Look-alike audiences are a marketing tool; support and finance have no use for them.
  app.get('/customer/profile/:id/similar', auth.allow('marketing', 'owner', 'ml'), similarRateLimit, async (req, res) => {
    const id = customerIdParam(req.params.id);
    const { k } = parseWith(similarQuery, req.query, 'query');
    const { asOf, similar } = await similarCustomers.find(id, k);
    res.json({ customerId: id, asOf, k, similar });
  });
}
