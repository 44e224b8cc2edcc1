import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { enqueueEvent } from '../delivery/outbox';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import type { Role } from '../lib/roles';
import type { Breach } from './figures';
import { ALERT_KINDS } from './thresholds';

/** Who resolves an alert that a monitoring run found back under its threshold. */
export const MONITORING_ACTOR = 'monitoring';

export interface Alert {
  alertId: number;
  kind: string;
  message: string;
  detail: Record<string, unknown>;
  status: 'open' | 'resolved';
  runId: number | null;
  openedAt: Date;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolvedReason: string | null;
}

interface AlertRow {
  alert_id: string;
  kind: string;
  message: string;
  detail: Record<string, unknown>;
  status: 'open' | 'resolved';
  run_id: string | null;
  opened_at: Date;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolved_reason: string | null;
}

const view = (r: AlertRow): Alert => ({
  alertId: Number(r.alert_id),
  kind: r.kind,
  message: r.message,
  detail: r.detail,
  status: r.status,
  runId: r.run_id === null ? null : Number(r.run_id),
  openedAt: r.opened_at,
  resolvedAt: r.resolved_at,
  resolvedBy: r.resolved_by,
  resolvedReason: r.resolved_reason,
});

export async function openAlerts(db: Knex): Promise<Alert[]> {
  return ((await db('alerts').where({ status: 'open' }).orderBy('opened_at').select('*')) as AlertRow[]).map(view);
}

/**
 * Opens an alert for each breach whose kind has none open, and resolves the open alerts of monitored kinds that the
 * run no longer breaches; each change is an event for webhook subscribers, in the caller's transaction. An alert
 * already open stays as it is (one open alert per kind: the index refuses a second).
 */
export async function syncAlerts(
  trx: Knex.Transaction,
  runId: number,
  found: Breach[],
  now: Date,
): Promise<{ opened: Alert[]; resolved: Alert[] }> {
  const open = new Map(((await trx('alerts').where({ status: 'open' }).forUpdate().select('*')) as AlertRow[]).map((r) => [r.kind, r]));
  const opened: Alert[] = [];
  for (const b of found) {
    if (open.has(b.kind)) continue;
    const [row] = (await trx('alerts')
      .insert({ kind: b.kind, message: b.message, detail: JSON.stringify(b.detail), run_id: runId, opened_at: now })
      .returning('*')) as AlertRow[];
    const alert = view(row!);
    opened.push(alert);
    await enqueueEvent(trx, { type: 'alert.opened', data: eventData(alert), dedupeKey: `alert:${alert.alertId}:opened` });
  }
  const breached = new Set(found.map((b) => b.kind));
  const resolved: Alert[] = [];
  for (const kind of ALERT_KINDS) {
    const row = open.get(kind);
    if (!row || breached.has(kind)) continue;
    resolved.push(await close(trx, row, MONITORING_ACTOR, `Back under the threshold in scoring run ${runId}`, now));
  }
  return { opened, resolved };
}

async function close(trx: Knex.Transaction, row: AlertRow, by: string, reason: string, now: Date): Promise<Alert> {
  const [updated] = (await trx('alerts')
    .where({ alert_id: row.alert_id, status: 'open' })
    .update({ status: 'resolved', resolved_at: now, resolved_by: by, resolved_reason: reason })
    .returning('*')) as AlertRow[];
  const alert = view(updated!);
  await enqueueEvent(trx, { type: 'alert.resolved', data: eventData(alert), dedupeKey: `alert:${alert.alertId}:resolved` });
  return alert;
}

const eventData = (a: Alert) => ({
  alertId: a.alertId,
  kind: a.kind,
  message: a.message,
  detail: a.detail,
  runId: a.runId,
  status: a.status,
  openedAt: a.openedAt.toISOString(),
  resolvedAt: a.resolvedAt?.toISOString() ?? null,
  resolvedBy: a.resolvedBy,
  reason: a.resolvedReason,
});

/**
 * A person closes an open alert (automatic approval resumes once none is open), with a reason: audited, and an event
 * for webhook subscribers, in one transaction. The next monitoring run opens it again if the figure is still over.
 */
export async function resolveAlert(
  db: Knex,
  alertId: number,
  actor: { name: string; role: Role | null },
  reason: string,
  now = new Date(),
): Promise<Alert> {
  if (typeof reason !== 'string' || reason.trim() === '') throw new ValidationError('reason is required to resolve an alert', 'reason');
  return db.transaction(async (trx) => {
    const row = (await trx('alerts').where({ alert_id: alertId }).forUpdate().first('*')) as AlertRow | undefined;
    if (!row) throw new NotFoundError(`No alert ${alertId}`);
    if (row.status !== 'open') throw new ConflictError(`Alert ${alertId} is already resolved (by ${row.resolved_by})`);
    const alert = await close(trx, row, actor.name, reason.trim(), now);
    await recordAudit(trx, {
      actor: actor.name,
      role: actor.role,
      action: 'alert.resolved',
      target: `alert:${alertId}`,
      details: { kind: alert.kind, reason: alert.resolvedReason, runId: alert.runId },
    });
    return alert;
  });
}
