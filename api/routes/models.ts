import type { Express } from 'express';
import { z } from 'zod';
import { listModels } from '../../registry/model-registry';
import { changeModelStatus } from '../../registry/model-status';
import { ForbiddenError } from '../../lib/errors';
import type { RouteContext } from '../route-context';
import type { Role } from '../../lib/roles';
import { jsonBody, parseWith, positiveIntParam } from '../validate';

/**
 * Who may move a model to each status. ML engineers put candidates in shadow to compare them on live data; making a
 * model the one that decides (champion) or taking it out of service (retired) is the owner's call.
 */
const MAY_SET_STATUS = { shadow: ['ml', 'owner'], champion: ['owner'], retired: ['owner'] } as const satisfies Record<
  string,
  readonly Role[]
>;
type TargetStatus = keyof typeof MAY_SET_STATUS;

const statusChange = z
  .object({
    status: z.enum(Object.keys(MAY_SET_STATUS) as [TargetStatus, ...TargetStatus[]]),
    // Required: the audit log should say why a model was promoted or retired, not only who did it.
    reason: z.string().trim().min(1).max(1000),
  })
  .strict();

export function modelRoutes(app: Express, { db, auth, docs }: RouteContext): void {
  docs.add({ method: 'get', path: '/models', summary: 'The model registry', access: ['ml', 'owner'] });
  docs.add({
    method: 'post',
    path: '/models/:id/status',
    summary: "Change a model's status, with a reason (audited)",
    access: ['ml', 'owner'],
    body: statusChange,
  });
  app.get('/models', auth.allow('ml', 'owner'), async (_req, res) => {
    res.json({ models: await listModels(db) });
  });

  app.post('/models/:id/status', auth.allow('ml', 'owner'), jsonBody, async (req, res) => {
    const id = positiveIntParam(req.params.id, 'id');
    const { status, reason } = parseWith(statusChange, req.body, 'body');
    const principal = res.locals.principal!;
    const allowed: readonly Role[] = MAY_SET_STATUS[status];
    if (!allowed.includes(principal.role)) {
      throw new ForbiddenError(`Role ${principal.role} may not make a model ${status}; allowed: ${allowed.join(', ')}`);
    }
    const model = await changeModelStatus(db, {
      modelId: id,
      to: status,
      actor: { name: principal.name, role: principal.role, keyId: principal.keyId, ip: req.ip, via: 'api' },
      reason,
    });
    const { artifact: _artifact, ...withoutArtifact } = model;
    res.json({ model: withoutArtifact });
  });
}
