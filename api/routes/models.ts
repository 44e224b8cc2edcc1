import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Express } from 'express';
import { z } from 'zod';
import { getModel, listModels } from '../../registry/model-registry';
import { changeModelStatus } from '../../registry/model-status';
import { rollbackChampion } from '../../registry/rollback';
import { latestShadowReport } from '../../scoring/shadow-evaluation';
import { decideUpdate, DECISION_REFUSED } from '../../workflows/promotion';
import { ConflictError, DependencyError, ForbiddenError, NotFoundError, ValidationError } from '../../lib/errors';
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

const promotionDecision = z
  .object({
    decision: z.enum(['approve', 'reject']),
    reason: z.string().trim().min(1).max(1000),
  })
  .strict();

const rollbackRequest = z.object({ reason: z.string().trim().min(1).max(1000) }).strict();

const MODEL_KINDS = ['churn', 'clv', 'segments'] as const;

export function modelRoutes(app: Express, { db, auth, docs, temporal }: RouteContext): void {
  docs.add({ method: 'get', path: '/models', summary: 'The model registry', access: ['ml', 'owner'] });
  docs.add({
    method: 'post',
    path: '/models/:id/status',
    summary: "Change a model's status, with a reason (audited)",
    access: ['ml', 'owner'],
    body: statusChange,
  });
  docs.add({
    method: 'get',
    path: '/models/:id/shadow-report',
    summary: "A candidate against its kind's champion: the latest shadow evaluation report (null when none yet)",
    access: ['ml', 'owner'],
  });
  docs.add({
    method: 'post',
    path: '/models/:id/promotion',
    summary: "Approve or reject a candidate: the decision sent to its waiting promotion workflow's Update (audited)",
    access: ['ml'],
    body: promotionDecision,
  });
  docs.add({
    method: 'post',
    path: '/models/:kind/rollback',
    summary: 'Restore the previous champion of a kind (the current one is retired), with a reason (audited)',
    access: ['ml'],
    body: rollbackRequest,
  });
  app.get('/models', auth.allow('ml', 'owner'), async (_req, res) => {
    res.json({ models: await listModels(db) });
  });

  app.get('/models/:id/shadow-report', auth.allow('ml', 'owner'), async (req, res) => {
    const id = positiveIntParam(req.params.id, 'id');
    await getModel(db, id); // 404 for a model that does not exist
    const stored = await latestShadowReport(db, id);
    // None yet is an answer, not an error: a candidate waits for its shadow evaluation.
    res.json({
      shadowReport: stored
        ? { reportId: stored.reportId, evaluationRun: stored.evaluationRun, createdAt: stored.createdAt, report: stored.report }
        : null,
    });
  });

  // Only the ML role decides a promotion; the promotion workflow's validator checks it again.
  app.post('/models/:id/promotion', auth.allow('ml'), jsonBody, async (req, res) => {
    const id = positiveIntParam(req.params.id, 'id');
    const { decision, reason } = parseWith(promotionDecision, req.body, 'body');
    if (!temporal) throw new DependencyError('Promotions need Temporal, which this API was started without');
    const principal = res.locals.principal!;
    try {
      const outcome = await temporal.client.workflow
        .getHandle(`promotion-${id}`)
        .executeUpdate(decideUpdate, { args: [{ decision, by: principal.name, role: principal.role, reason }] });
      res.json({ promotion: outcome });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new NotFoundError(`No promotion of model ${id} is waiting: run the shadow evaluation of this candidate first`);
      const cause = err instanceof WorkflowUpdateFailedError ? (err.cause as { type?: string; message?: string } | undefined) : undefined;
      if (cause?.type !== DECISION_REFUSED) throw err;
      const message = cause.message ?? 'refused';
      if (message.startsWith('Only the ML role')) throw new ForbiddenError(message);
      if (message.startsWith('This promotion is already')) throw new ConflictError(message);
      throw new ValidationError(message);
    }
  });

  // The ML team watches the models' health, so it is the one to take a failing champion out of service at once.
  app.post('/models/:kind/rollback', auth.allow('ml'), jsonBody, async (req, res) => {
    const kind = String(req.params.kind);
    if (!(MODEL_KINDS as readonly string[]).includes(kind))
      throw new ValidationError(`kind must be one of ${MODEL_KINDS.join(', ')}, got "${kind}"`, 'kind');
    const { reason } = parseWith(rollbackRequest, req.body, 'body');
    const principal = res.locals.principal!;
    const { restored, retired } = await rollbackChampion(db, {
      kind,
      actor: { name: principal.name, role: principal.role, keyId: principal.keyId, ip: req.ip, via: 'api' },
      reason,
    });
    const { artifact: _artifact, ...withoutArtifact } = restored;
    res.json({ restored: withoutArtifact, retired });
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
