import type { Knex } from 'knex';
import type { Role } from '../lib/roles';

export interface AuditEntry {
  actor: string;
  /** Null for CLI operators (see the migration). */
  role: Role | null;
  action: string;
  target: string;
  details?: Record<string, unknown>;
  ip?: string | null;
}

/** Appends one row to audit_log; pass the transaction of the action so that both commit or neither does. */
export async function recordAudit(db: Knex, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    actor: entry.actor,
    role: entry.role,
    action: entry.action,
    target: entry.target,
    details: JSON.stringify(entry.details ?? {}),
    ip: entry.ip ?? null,
  });
}
