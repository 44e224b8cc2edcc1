import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors';
import type { Role } from '../lib/roles';
import { loadVersion } from '../policy/lifecycle';
import { fromCents, toCents } from '../policy/money';
import { parameterResolver } from '../policy/parameters';

/**
 * The approval queue of high-impact actions: one action_approvals row per pending action, kept by an approval
 * workflow (workflows/action-approval.ts) for a batch of actions, which waits for a person's `approve`, `reject` or
 * `override` of each, escalates the undecided ones after the policy's escalateAfterHours and expires them at their
 * expires_at. Every human decision is audited with
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

/** The policy's incentive cap of each action's type and segment (null: the action carries no incentive). */
async function capsOf(db: Knex, rows: Pick<ActionRow, 'action_id' | 'action_type' | 'segment' | 'version_id'>[]) {
  const resolvers = new Map<string, ReturnType<typeof parameterResolver>>();
  const caps = new Map<number, string | null>();
  for (const row of rows) {
    let resolve = resolvers.get(row.version_id);
    if (!resolve) {
      resolve = parameterResolver((await loadVersion(db, Number(row.version_id))).parameters);
      resolvers.set(row.version_id, resolve);
    }
    const action = resolve(row.segment)[row.action_type as keyof ReturnType<typeof resolve>];
    caps.set(Number(row.action_id), action?.incentiveCap ?? null);
  }
  return caps;
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
    incentiveCap: (await capsOf(db, [row])).get(actionId)!,
    channel: typeof row.parameters.channel === 'string' ? row.parameters.channel : null,
    expiresAt: row.expires_at,
    decidedAt: row.decided_at,
  };
}

/** An action in an approval workflow: enough for its Update's validator to check a decision at once. */
export interface ApprovalItem {
  actionId: number;
  actionType: string;
  incentiveCap: string | null;
}

/**
 * What an approval workflow starts with: a batch of actions sharing one expires_at (no decision by then and an
 * action expires, never delivered) and the hours without a decision after which the waiting ones are escalated.
 */
export interface ApprovalBatch {
  workflowId: string;
  actions: ApprovalItem[];
  expiresAt: string;
  escalateAfterHours: number;
}

/**
 * Actions per approval workflow. Each decision adds about ten events to its workflow's history, well within
 * Temporal's limits at this size; one workflow per action made the demo's queue of 900 take minutes to start.
 */
export const APPROVAL_BATCH_SIZE = 250;

/** The workflow id of an action decided before any batch opened it (the API starts it): one action alone. */
export const approvalWorkflowId = (actionId: number) => `approval-action-${actionId}`;

async function batchesOf(db: Knex, rows: ActionRow[], workflowIdOf: (batch: number) => string): Promise<ApprovalBatch[]> {
  const caps = await capsOf(db, rows);
  const byExpiry = new Map<string, ActionRow[]>();
  for (const row of rows) byExpiry.set(row.expires_at.toISOString(), [...(byExpiry.get(row.expires_at.toISOString()) ?? []), row]);
  const batches: ApprovalBatch[] = [];
  for (const [expiresAt, group] of byExpiry)
    for (let start = 0; start < group.length; start += APPROVAL_BATCH_SIZE) {
      const version = await loadVersion(db, Number(group[start]!.version_id));
      batches.push({
        workflowId: workflowIdOf(batches.length + 1),
        actions: group.slice(start, start + APPROVAL_BATCH_SIZE).map((r) => ({
          actionId: Number(r.action_id),
          actionType: r.action_type,
          incentiveCap: caps.get(Number(r.action_id))!,
        })),
        expiresAt,
        escalateAfterHours: version.parameters.impactTiers.escalateAfterHours,
      });
    }
  return batches;
}

/**
 * The approval batches of an evaluation's actions waiting for a person (workflow ids `approval-<evaluationId>-<n>`),
 * with their approval rows written in `trx` (the evaluation's transaction), so the API finds each action's workflow
 * from the moment the actions exist.
 */
export async function openEvaluationApprovals(trx: Knex.Transaction, evaluationId: number): Promise<ApprovalBatch[]> {
  const rows = (await trx('actions as a')
    .join('decisions as d', 'd.decision_id', 'a.decision_id')
    .where({ 'd.evaluation_id': evaluationId, 'a.status': 'pending_approval' })
    .orderBy('a.action_id')
    .select('a.*')) as ActionRow[];
  const batches = await batchesOf(trx, rows, (n) => `approval-${evaluationId}-${n}`);
  for (const batch of batches)
    await trx('action_approvals')
      .insert(batch.actions.map((a) => ({ action_id: a.actionId, workflow_id: batch.workflowId, deadline_at: batch.expiresAt })))
      .onConflict('action_id')
      .ignore();
  return batches;
}

/** A batch of one, for an action waiting without an approval workflow (the API starts it). */
export async function singleActionBatch(db: Knex, actionId: number): Promise<ApprovalBatch> {
  const [batch] = await batchesOf(db, [await actionRow(db, actionId)], () => approvalWorkflowId(actionId));
  return batch!;
}

/** The workflow keeping an action's open approval, if one does. */
export async function approvalWorkflowOf(db: Knex, actionId: number): Promise<string | null> {
  const row = (await db('action_approvals').where({ action_id: actionId, status: 'waiting' }).first('workflow_id')) as
    { workflow_id: string } | undefined;
  return row?.workflow_id ?? null;
}

/**
 * Records a batch's approvals as waiting, kept by `workflowId` (the latest workflow to open a waiting approval keeps
 * it), and returns the actions no longer waiting for a person. Idempotent.
 */
export async function openActionApprovals(
  db: Knex,
  input: { actionIds: number[]; workflowId: string; deadlineAt: Date },
): Promise<{ notPending: number[] }> {
  const pending = (await db('actions')
    .whereIn('action_id', input.actionIds)
    .where({ status: 'pending_approval' })
    .pluck('action_id')) as string[];
  if (pending.length > 0)
    await db('action_approvals')
      .insert(pending.map((id) => ({ action_id: id, workflow_id: input.workflowId, deadline_at: input.deadlineAt })))
      .onConflict('action_id')
      .merge(['workflow_id', 'deadline_at'])
      .where('action_approvals.status', 'waiting');
  const open = new Set(pending.map(Number));
  return { notPending: input.actionIds.filter((id) => !open.has(id)) };
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

/** No decision by the actions' expiry: they expire (never delivered); each audited. Returns those it expired. */
export async function expireActions(db: Knex, input: { actionIds: number[]; reason: string }): Promise<number[]> {
  return db.transaction(async (trx) => {
    const expired = (
      (await trx('actions')
        .whereIn('action_id', input.actionIds)
        .where({ status: 'pending_approval' })
        .update({ status: 'expired', status_reason: input.reason, status_changed_at: trx.fn.now() })
        .returning('action_id')) as { action_id: string }[]
    ).map((r) => Number(r.action_id));
    if (expired.length === 0) return [];
    await trx('action_approvals')
      .whereIn('action_id', expired)
      .where({ status: 'waiting' })
      .update({ status: 'expired', decided_at: trx.fn.now(), reason: input.reason });
    for (const actionId of expired)
      await recordAudit(trx, {
        actor: 'approval-workflow',
        role: null,
        action: 'action.expired',
        target: `action:${actionId}`,
        details: { before: { status: 'pending_approval' }, after: { status: 'expired' }, reason: input.reason },
      });
    return expired;
  });
}

/**
 * Nobody decided within the policy's escalateAfterHours: the waiting approvals are flagged in the queue, each
 * audited, in `trx` (the caller notifies in the same transaction). Returns those it escalated. Idempotent.
 */
export async function escalateActions(trx: Knex.Transaction, input: { actionIds: number[]; afterHours: number }): Promise<number[]> {
  const escalated = (
    (await trx('action_approvals')
      .whereIn('action_id', input.actionIds)
      .where({ status: 'waiting' })
      .whereNull('escalated_at')
      .update({ escalated_at: trx.fn.now() })
      .returning('action_id')) as { action_id: string }[]
  ).map((r) => Number(r.action_id));
  for (const actionId of escalated)
    await recordAudit(trx, {
      actor: 'approval-workflow',
      role: null,
      action: 'action.approval.escalated',
      target: `action:${actionId}`,
      details: { afterHours: input.afterHours },
    });
  return escalated.sort((a, b) => a - b);
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
/** How many actions wait for a person (the queue listApprovals reads, unfiltered). */
export async function waitingApprovalCount(db: Knex): Promise<number> {
  const row = (await db('actions').where('status', 'pending_approval').count({ n: '*' }).first()) as { n: string };
  return Number(row.n);
}

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
