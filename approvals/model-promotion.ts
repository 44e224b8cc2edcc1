import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { ConflictError } from '../lib/errors';
import type { Role } from '../lib/roles';
import { getModel, type RegisteredModel } from '../registry/model-registry';
import { changeModelStatus } from '../registry/model-status';
import { latestShadowReport } from '../scoring/shadow-evaluation';

/**
 * A promotion: a candidate waiting for a person's decision (the promotion workflow, one `model_promotions` row per
 * workflow). Only an approval makes a model champion; rejection retires the candidate; a promotion can also expire
 * (nobody decided by the deadline) or be refused (no finished shadow report, and not forced).
 */
export type PromotionStatus = 'waiting' | 'approved' | 'rejected' | 'expired' | 'refused';

export interface OpenedPromotion {
  candidateId: number;
  kind: string;
  version: number;
  /** The newest finished shadow report of the candidate, if there is one. */
  shadowReportId: number | null;
}

/** Records a promotion as waiting (idempotent per workflow) and says whether the candidate has a shadow report. */
export async function openPromotion(
  db: Knex,
  input: { workflowId: string; candidateId: number; deadlineAt: Date; forcedReason: string | null },
): Promise<OpenedPromotion> {
  const candidate = await getModel(db, input.candidateId);
  const existing = (await db('model_promotions').where({ workflow_id: input.workflowId }).first('status')) as
    { status: string } | undefined;
  if (!existing && candidate.status !== 'candidate' && candidate.status !== 'shadow')
    throw new ConflictError(`Model ${candidate.modelId} is ${candidate.status}: only a candidate or shadow model can be promoted`);
  await db('model_promotions')
    .insert({
      workflow_id: input.workflowId,
      candidate_id: input.candidateId,
      deadline_at: input.deadlineAt,
      forced_reason: input.forcedReason,
    })
    .onConflict('workflow_id')
    .ignore();
  const report = await latestShadowReport(db, input.candidateId);
  return { candidateId: candidate.modelId, kind: candidate.kind, version: candidate.version, shadowReportId: report?.reportId ?? null };
}

export interface PromotionDecision {
  decision: 'approve' | 'reject';
  by: string;
  role: Role;
  reason: string;
}

/**
 * Carries out a decision: approve makes the candidate champion (the previous champion retired in the same
 * transaction), reject retires the candidate; both audited with the decider as actor. A retry after a crash finds
 * the change already made and only closes the promotion.
 */
export async function carryOutDecision(
  db: Knex,
  input: { workflowId: string; candidateId: number } & PromotionDecision,
): Promise<{ status: 'approved' | 'rejected'; model: RegisteredModel }> {
  const target = input.decision === 'approve' ? 'champion' : 'retired';
  let model = await getModel(db, input.candidateId);
  if (model.status !== target) {
    model = await changeModelStatus(db, {
      modelId: input.candidateId,
      to: target,
      actor: { name: input.by, role: input.role, via: 'workflow' },
      reason: `${input.decision === 'approve' ? 'approved' : 'rejected'} in promotion ${input.workflowId}: ${input.reason}`,
    });
  }
  const status = input.decision === 'approve' ? ('approved' as const) : ('rejected' as const);
  await closePromotion(db, { workflowId: input.workflowId, status, by: input.by, role: input.role, reason: input.reason });
  return { status, model };
}

/** Closes a promotion with its outcome (idempotent); an expiry or refusal is audited here, a decision by its status change. */
export async function closePromotion(
  db: Knex,
  input: { workflowId: string; status: Exclude<PromotionStatus, 'waiting'>; by?: string; role?: Role; reason: string },
): Promise<void> {
  await db.transaction(async (trx) => {
    const updated = await trx('model_promotions')
      .where({ workflow_id: input.workflowId, status: 'waiting' })
      .update({
        status: input.status,
        decided_by: input.by ?? null,
        decided_role: input.role ?? null,
        reason: input.reason,
        closed_at: trx.fn.now(),
      })
      .returning('candidate_id');
    if (updated.length === 0 || input.status === 'approved' || input.status === 'rejected') return;
    await recordAudit(trx, {
      actor: 'promotion-workflow',
      role: null,
      action: `model.promotion.${input.status}`,
      target: `model:${(updated[0] as { candidate_id: string }).candidate_id}`,
      details: { workflowId: input.workflowId, reason: input.reason },
    });
  });
}

export async function promotionsOf(db: Knex, candidateId: number) {
  return db('model_promotions').where({ candidate_id: candidateId }).orderBy('created_at').select('*');
}
