import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors';
import type { Role } from '../lib/roles';
import { loadVersion } from '../policy/lifecycle';
import { fromCents, toCents } from '../policy/money';
import { parameterResolver } from '../policy/parameters';

/**
 * The approval queue of high-impact actions: one action_approvals row per pending action, kept by its approval
 * workflow (workflows/action-approval.ts), which waits for a person's `approve`, `reject` or `override`, escalates
 * after the policy's escalateAfterHours and expires the action at its expires_at. Every human decision is audited with
 * who, what, the action before and after, and why. Delivery of what is approved is delivery/'s job
 * (delivery/action-release.ts), in the decision's transaction.
 */
export const CHANNELS = ['email', 'sms', 'push', 'phone', 'crm'] as const;
export type Channel = (typeof CHANNELS)[number];

export const APPROVAL_DECISIONS = ['approve', 'reject', 'override'] as const;

export interface ActionDecision {
  decision: (typeof APPROVAL_DECISIONS)[number];
  by: string;
  role: Role;
  /** Required for reject and override. */
  reason?: string;
  /** Override: the new incentive (at most the policy's cap for the action's type and segment). */
  amount?: string;
  /** Override: the channel the action goes out on. */
  channel?: Channel;
}

/** Action types a marketing key may decide besides the owner (campaign routing is marketing's own work). */
export const MARKETING_DECIDES: readonly string[] = ['campaign'];

/** Who may decide an action of this type: the owner always; marketing for campaign routing. */
export function mayDecide(role: Role, actionType: string): boolean {
  return role === 'owner' || (role === 'marketing' && MARKETING_DECIDES.includes(actionType));
}

export interface PendingAction {
  actionId: number;
  customerId: string;
  actionType: string;
  segment: string | null;
  campaign: string;
  status: string;
  statusReason: string | null;
  incentiveAmount: string;
  /** The policy's incentive cap for this action's type and segment; null when the action carries no incentive. */
  incentiveCap: string | null;
  channel: string | null;
  expiresAt: Date;
  decidedAt: Date;
}

interface ActionRow {
  action_id: string;
  customer_id: string;
  action_type: string;
  segment: string | null;
  campaign: string;
  status: string;
  status_reason: string | null;
  incentive_amount: string;
  parameters: Record<string, unknown>;
  version_id: string;
  expires_at: Date;
  decided_at: Date;
}

async function capOf(db: Knex, row: ActionRow): Promise<string | null> {
  const version = await loadVersion(db, Number(row.version_id));
  const action = parameterResolver(version.parameters)(row.segment)[
    row.action_type as keyof ReturnType<ReturnType<typeof parameterResolver>>
  ];
  return action?.incentiveCap ?? null;
}

async function actionRow(db: Knex, actionId: number, forUpdate = false): Promise<ActionRow> {
  const q = db('actions').where({ action_id: actionId }).first<ActionRow | undefined>();
  const row = await (forUpdate ? q.forUpdate() : q);
  if (!row) throw new NotFoundError(`Unknown action ${actionId}`);
  return row;
}

export async function pendingAction(db: Knex, actionId: number): Promise<PendingAction> {
  const row = await actionRow(db, actionId);
  return {
    actionId: Number(row.action_id),
    customerId: row.customer_id,
    actionType: row.action_type,
    segment: row.segment,
    campaign: row.campaign,
    status: row.status,
    statusReason: row.status_reason,
    incentiveAmount: row.incentive_amount,
    incentiveCap: await capOf(db, row),
    channel: typeof row.parameters.channel === 'string' ? row.parameters.channel : null,
    expiresAt: row.expires_at,
    decidedAt: row.decided_at,
  };
}

/** What an action's approval workflow starts with: enough for its Update's validator to check a decision at once. */
export interface ApprovalInput {
  actionId: number;
  actionType: string;
  incentiveCap: string | null;
  expiresAt: string;
  escalateAfterHours: number;
}

export async function approvalInput(db: Knex, actionId: number): Promise<ApprovalInput> {
  const row = await actionRow(db, actionId);
  const version = await loadVersion(db, Number(row.version_id));
  return {
    actionId,
    actionType: row.action_type,
    incentiveCap: await capOf(db, row),
    expiresAt: row.expires_at.toISOString(),
    escalateAfterHours: version.parameters.impactTiers.escalateAfterHours,
  };
}

/** The workflow id of an action's approval: one workflow per action. */
export const approvalWorkflowId = (actionId: number) => `approval-action-${actionId}`;

/** Records an action's approval as waiting (idempotent per action) and returns the action as it stands. */
export async function openActionApproval(
  db: Knex,
  input: { actionId: number; workflowId: string; deadlineAt: Date },
): Promise<PendingAction> {
  const action = await pendingAction(db, input.actionId);
  if (action.status === 'pending_approval')
    await db('action_approvals')
      .insert({ action_id: input.actionId, workflow_id: input.workflowId, deadline_at: input.deadlineAt })
      .onConflict('action_id')
      .ignore();
  return action;
}

/** Checks a decision against the action (also the approval workflow's validator's rules); throws what is wrong. */
export function checkDecision(d: ActionDecision, action: Pick<PendingAction, 'actionType' | 'incentiveCap' | 'status'>): void {
  if (!mayDecide(d.role, action.actionType))
    throw new ForbiddenError(
      `Role ${d.role} may not decide a ${action.actionType} action: the owner decides${action.actionType === 'campaign' ? ' (or marketing)' : ''}`,
    );
  if (!(APPROVAL_DECISIONS as readonly string[]).includes(d.decision))
    throw new ValidationError(`decision must be approve, reject or override, got ${JSON.stringify(d.decision)}`, 'decision');
  if (typeof d.by !== 'string' || d.by.trim() === '') throw new ValidationError('by: who decides is required', 'by');
  if (d.decision !== 'approve' && (typeof d.reason !== 'string' || d.reason.trim() === ''))
    throw new ValidationError(`reason is required to ${d.decision}`, 'reason');
  if (d.decision === 'override') {
    if (d.amount === undefined && d.channel === undefined) throw new ValidationError('an override changes amount or channel', 'amount');
    if (d.channel !== undefined && !(CHANNELS as readonly string[]).includes(d.channel))
      throw new ValidationError(`channel must be one of ${CHANNELS.join(', ')}`, 'channel');
    if (d.amount !== undefined) {
      if (action.incentiveCap === null) throw new ValidationError(`A ${action.actionType} action has no incentive to change`, 'amount');
      if (toCents(d.amount, 'amount') < 0) throw new ValidationError('amount must not be negative', 'amount');
      if (toCents(d.amount, 'amount') > toCents(action.incentiveCap, 'incentiveCap'))
        throw new ValidationError(`amount ${d.amount} is above the policy's cap of ${action.incentiveCap}`, 'amount');
    }
  } else if (d.amount !== undefined || d.channel !== undefined)
    throw new ValidationError('amount and channel are changed only by an override', d.amount !== undefined ? 'amount' : 'channel');
  if (action.status !== 'pending_approval') throw new ConflictError(`This action is ${action.status}, not waiting for approval`);
}

export interface DecisionOutcome {
  actionId: number;
  status: 'approved' | 'rejected';
  approval: 'approved' | 'rejected' | 'overridden';
  before: { status: string; incentiveAmount: string; channel: string | null };
  after: { status: string; incentiveAmount: string; channel: string | null };
}

/**
 * Carries out a person's decision in `trx` (the caller adds the webhook event in the same transaction): the action
 * approved (with the override's amount or channel) or rejected, the approval closed, the decision audited with
 * before and after. A retry after a crash finds the approval already closed and answers its outcome again.
 */
export async function decideAction(trx: Knex.Transaction, actionId: number, d: ActionDecision): Promise<DecisionOutcome> {
  const row = await actionRow(trx, actionId, true);
  const approval = (await trx('action_approvals').where({ action_id: actionId }).forUpdate().first()) as
    { status: string; before: DecisionOutcome['before'] | null; after: DecisionOutcome['after'] | null } | undefined;
  if (approval && approval.status !== 'waiting' && approval.status !== 'expired' && approval.after && approval.before)
    return {
      actionId,
      status: approval.after.status as DecisionOutcome['status'],
      approval: approval.status as DecisionOutcome['approval'],
      before: approval.before,
      after: approval.after,
    };
  const current = await pendingAction(trx, actionId);
  checkDecision(d, current);
  const before = { status: row.status, incentiveAmount: row.incentive_amount, channel: current.channel };
  const amount = d.amount !== undefined ? fromCents(toCents(d.amount, 'amount')) : row.incentive_amount;
  const channel = d.channel ?? current.channel;
  const status = d.decision === 'reject' ? ('rejected' as const) : ('approved' as const);
  const after = { status, incentiveAmount: amount, channel };
  const parameters = {
    ...row.parameters,
    ...(channel !== null ? { channel } : {}),
    ...(row.parameters.incentive !== undefined ? { incentive: amount } : {}),
  };
  await trx('actions')
    .where({ action_id: actionId })
    .update({
      status,
      status_reason: `${d.decision === 'override' ? 'overridden' : status} by ${d.by}`,
      incentive_amount: amount,
      parameters: JSON.stringify(parameters),
      status_changed_at: trx.fn.now(),
    });
  const approvalStatus = d.decision === 'override' ? ('overridden' as const) : status;
  const closed = {
    status: approvalStatus,
    decided_by: d.by,
    decided_role: d.role,
    decided_at: trx.fn.now(),
    reason: d.reason ?? null,
    before: JSON.stringify(before),
    after: JSON.stringify(after),
  };
  if (approval) await trx('action_approvals').where({ action_id: actionId }).update(closed);
  else
    await trx('action_approvals').insert({
      action_id: actionId,
      workflow_id: approvalWorkflowId(actionId),
      deadline_at: row.expires_at,
      ...closed,
    });
  await recordAudit(trx, {
    actor: d.by,
    role: d.role,
    action: `action.${d.decision === 'override' ? 'overridden' : status}`,
    target: `action:${actionId}`,
    details: { before, after, reason: d.reason ?? null },
  });
  return { actionId, status, approval: approvalStatus, before, after };
}

/** No decision by the action's expiry: the action expires (never delivered); audited. Idempotent. */
export async function expireAction(db: Knex, input: { actionId: number; reason: string }): Promise<boolean> {
  return db.transaction(async (trx) => {
    const updated = await trx('actions')
      .where({ action_id: input.actionId, status: 'pending_approval' })
      .update({ status: 'expired', status_reason: input.reason, status_changed_at: trx.fn.now() });
    if (updated === 0) return false;
    await trx('action_approvals')
      .where({ action_id: input.actionId, status: 'waiting' })
      .update({ status: 'expired', decided_at: trx.fn.now(), reason: input.reason });
    await recordAudit(trx, {
      actor: 'approval-workflow',
      role: null,
      action: 'action.expired',
      target: `action:${input.actionId}`,
      details: { before: { status: 'pending_approval' }, after: { status: 'expired' }, reason: input.reason },
    });
    return true;
  });
}

/** Nobody decided within the policy's escalateAfterHours: the approval is flagged in the queue and audited. Idempotent. */
export async function escalateAction(db: Knex, input: { actionId: number; afterHours: number }): Promise<boolean> {
  return db.transaction(async (trx) => {
    const updated = await trx('action_approvals')
      .where({ action_id: input.actionId, status: 'waiting' })
      .whereNull('escalated_at')
      .update({ escalated_at: trx.fn.now() });
    if (updated === 0) return false;
    await recordAudit(trx, {
      actor: 'approval-workflow',
      role: null,
      action: 'action.approval.escalated',
      target: `action:${input.actionId}`,
      details: { afterHours: input.afterHours },
    });
    return true;
  });
}

export interface ApprovalFilters {
  type?: string;
  segment?: string;
  minAmount?: string;
  maxAmount?: string;
  /** Only approvals waiting at least this many hours. */
  minAgeHours?: number;
  escalated?: boolean;
  limit: number;
}

/** The queue: actions waiting for a person, oldest first, with their age, deadline and escalation flag. */
export async function listApprovals(db: Knex, f: ApprovalFilters) {
  const q = db('actions as a')
    .leftJoin('action_approvals as p', 'p.action_id', 'a.action_id')
    .where('a.status', 'pending_approval')
    .select(
      'a.action_id',
      'a.customer_id',
      'a.action_type',
      'a.segment',
      'a.campaign',
      'a.status_reason',
      db.raw('a.incentive_amount::text as incentive_amount'),
      'a.decided_at',
      'a.expires_at',
      'p.escalated_at',
      db.raw('extract(epoch from (now() - a.decided_at)) / 3600 as age_hours'),
    )
    .orderBy('a.decided_at')
    .orderBy('a.action_id')
    .limit(f.limit);
  if (f.type) q.where('a.action_type', f.type);
  if (f.segment) q.where('a.segment', f.segment);
  if (f.minAmount) q.where('a.incentive_amount', '>=', f.minAmount);
  if (f.maxAmount) q.where('a.incentive_amount', '<=', f.maxAmount);
  if (f.minAgeHours !== undefined) q.whereRaw(`a.decided_at <= now() - make_interval(secs => ?)`, [f.minAgeHours * 3600]);
  if (f.escalated !== undefined) q.where((w) => (f.escalated ? w.whereNotNull('p.escalated_at') : w.whereNull('p.escalated_at')));
  const rows = (await q) as Record<string, unknown>[];
  return rows.map((r) => ({
    actionId: Number(r.action_id),
    customerId: r.customer_id as string,
    actionType: r.action_type as string,
    segment: r.segment as string | null,
    campaign: r.campaign as string,
    reason: r.status_reason as string | null,
    incentiveAmount: r.incentive_amount as string,
    decidedAt: r.decided_at as Date,
    expiresAt: r.expires_at as Date,
    ageHours: Math.round(Number(r.age_hours) * 100) / 100,
    escalated: r.escalated_at !== null,
    escalatedAt: (r.escalated_at as Date | null) ?? null,
  }));
}
