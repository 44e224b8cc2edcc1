import type { Knex } from 'knex';

/** Why an API key was refused: not shaped like a key, no such key, or a revoked one. */
export const AUTH_FAILURE_REASONS = ['malformed', 'unknown', 'revoked'] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/** Counts one refused key in today's row for its reason (one row per day and reason, however many attempts). */
export async function countAuthFailure(db: Knex, reason: AuthFailureReason): Promise<void> {
  await db.raw(
    `insert into auth_failures (day, reason, attempts) values (current_date, ?, 1)
     on conflict (day, reason) do update set attempts = auth_failures.attempts + 1`,
    [reason],
  );
}

/** Refused keys per reason over the last `days` days (today included). */
export async function authFailureCounts(db: Knex, days = 30): Promise<Record<AuthFailureReason, number>> {
  const rows = (await db('auth_failures')
    .where('day', '>', db.raw(`current_date - ?::int`, [days]))
    .groupBy('reason')
    .select('reason', db.raw('sum(attempts)::bigint as attempts'))) as { reason: AuthFailureReason; attempts: string }[];
  const counts = Object.fromEntries(AUTH_FAILURE_REASONS.map((r) => [r, 0])) as Record<AuthFailureReason, number>;
  for (const r of rows) counts[r.reason] = Number(r.attempts);
  return counts;
}
