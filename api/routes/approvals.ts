import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Express } from 'express';
import { z } from 'zod';
import {
  approvalWorkflowId,
  approvalWorkflowOf,
  CHANNELS,
  checkDecision,
  listApprovals,
  mayDecide,
  pendingAction,
  singleActionBatch,
  type ActionDecision,
} from '../../approvals/action-approval';
import { ACTION_TYPES } from '../../policy/action-types';
import { ConflictError, DependencyError, ForbiddenError, ValidationError } from '../../lib/errors';
import type { Principal } from '../locals';
import { defineRoute } from '../openapi';
import type { RouteContext } from '../route-context';
import { positiveIntParam } from '../validate';
import { actionApprovalWorkflow, decideActionUpdate, DECISION_REFUSED, type ActionApprovalResult } from '../../workflows/action-approval';

const amount = z.string().regex(/^\d{1,12}(\.\d{1,2})?$/, 'an amount like 12.50');
const reason = z.string().trim().min(1).max(1000);

const approvalsQuery = z
  .object({
    type: z.enum(ACTION_TYPES).optional(),
    segment: z.string().min(1).max(200).optional(),
    minAmount: amount.optional(),
    maxAmount: amount.optional(),
    minAgeHours: z.coerce
      .number()
      .min(0)
      .max(24 * 365)
      .optional(),
    escalated: z.enum(['true', 'false']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const approveBody = z.object({ reason: reason.optional() }).strict();
const rejectBody = z.object({ reason }).strict();
const overrideBody = z
  .object({ reason, amount: amount.optional(), channel: z.enum(CHANNELS).optional() })
  .strict()
  .refine((b) => b.amount !== undefined || b.channel !== undefined, { message: 'an override changes amount or channel', path: ['amount'] });
const bulkBody = z
  .object({
    decision: z.enum(['approve', 'reject']),
    actionIds: z.array(z.number().int().positive()).min(1).max(100),
    reason: reason.optional(),
  })
  .strict();

/** The owner decides; marketing decides campaign actions (checked per action, 403 otherwise). */
const DECIDERS = ['owner', 'marketing'] as const;
const READERS = ['owner', 'marketing', 'finance', 'support', 'viewer', 'admin'] as const;

/**
 * Sends a decision to the action's approval workflow (the batch that opened it, found through its approval row; or,
 * for an action no running workflow keeps, a workflow of its own started here) as its `decide` Update, after the
 * same checks the workflow's validator makes, so a caller gets 403/400/409 without a round trip; a decision the
 * validator still refuses answers the same way.
 */
async function sendDecision(
  ctx: RouteContext,
  actionId: number,
  principal: Principal,
  d: Omit<ActionDecision, 'by' | 'role'>,
): Promise<ActionApprovalResult> {
  const action = await pendingAction(ctx.db, actionId);
  if (!mayDecide(principal.role, action.actionType))
    throw new ForbiddenError(
      `Role ${principal.role} may not decide a ${action.actionType} action: the owner decides${action.actionType === 'campaign' ? ' (or marketing)' : ''}`,
    );
  const decision: ActionDecision = { ...d, by: principal.name, role: principal.role };
  checkDecision(decision, action);
  const client: Client | undefined = ctx.temporal?.client;
  if (!client) throw new DependencyError('Approvals need Temporal, which this API was started without');
  const ownWorkflow = async () =>
    client.workflow.start(actionApprovalWorkflow, {
      workflowId: approvalWorkflowId(actionId),
      taskQueue: ctx.temporal!.taskQueue,
      args: [await singleActionBatch(ctx.db, actionId)],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  const workflowId = await approvalWorkflowOf(ctx.db, actionId);
  try {
    const handle = workflowId ? client.workflow.getHandle(workflowId) : await ownWorkflow();
    try {
      return await handle.executeUpdate(decideActionUpdate, { args: [actionId, decision] });
    } catch (err) {
      // The batch's workflow is gone (terminated, or not started yet): the action gets a workflow of its own, which
      // takes its approval over.
      if (!(err instanceof WorkflowNotFoundError) || !workflowId) throw err;
      return await (await ownWorkflow()).executeUpdate(decideActionUpdate, { args: [actionId, decision] });
    }
  } catch (err) {
    const cause = err instanceof WorkflowUpdateFailedError ? (err.cause as { type?: string; message?: string } | undefined) : undefined;
    if (cause?.type !== DECISION_REFUSED) throw err;
    const message = cause.message ?? 'refused';
    if (message.startsWith('Role')) throw new ForbiddenError(message);
    if (message.startsWith('This action is already')) throw new ConflictError(message);
    throw new ValidationError(message);
  }
}

export function approvalRoutes(app: Express, ctx: RouteContext): void {
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/approvals',
      summary: 'The approval queue: actions waiting for a person, oldest first, with age and escalation',
      roles: [...READERS],
      query: approvalsQuery,
    },
    async ({ query }) => ({
      approvals: await listApprovals(ctx.db, {
        ...query,
        escalated: query.escalated === undefined ? undefined : query.escalated === 'true',
      }),
    }),
  );

  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/approvals/:actionId/approve',
      summary: 'Approve an action (delivered unless held by the kill switch, the holdout or a suppression)',
      roles: [...DECIDERS],
      body: approveBody,
    },
    async ({ params, body, res }) =>
      sendDecision(ctx, positiveIntParam(params.actionId, 'actionId'), res.locals.principal!, { decision: 'approve', reason: body.reason }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/approvals/:actionId/reject',
      summary: 'Reject an action, with a reason',
      roles: [...DECIDERS],
      body: rejectBody,
    },
    async ({ params, body, res }) =>
      sendDecision(ctx, positiveIntParam(params.actionId, 'actionId'), res.locals.principal!, { decision: 'reject', reason: body.reason }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/approvals/:actionId/override',
      summary: 'Approve with a changed amount (at most the policy cap) or channel, with a reason',
      roles: [...DECIDERS],
      body: overrideBody,
    },
    async ({ params, body, res }) =>
      sendDecision(ctx, positiveIntParam(params.actionId, 'actionId'), res.locals.principal!, { decision: 'override', ...body }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/approvals/bulk',
      summary: 'Approve or reject up to 100 actions; each answers on its own',
      roles: [...DECIDERS],
      body: bulkBody,
    },
    async ({ body, res }) => {
      const results = [];
      for (const actionId of body.actionIds) {
        try {
          results.push({
            actionId,
            result: await sendDecision(ctx, actionId, res.locals.principal!, { decision: body.decision, reason: body.reason }),
          });
        } catch (err) {
          if (!(err instanceof Error) || !('httpStatus' in err) || (err as { httpStatus: number }).httpStatus >= 500) throw err;
          results.push({ actionId, error: { code: (err as unknown as { code: string }).code, message: err.message } });
        }
      }
      return { results };
    },
  );
}
