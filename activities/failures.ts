import { ApplicationFailure } from '@temporalio/common';
import { classifyError } from '../lib/errors';

/**
 * The one place where Foresight's errors become Temporal failures. The failure's type is the error's class name and
 * its retry decision is the error's own `retryable` (lib/errors.ts): bad input, a missing record or a conflict fail
 * the workflow at once; an unavailable database is retried with the activity's backoff.
 */
export function toTemporalFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const classified = classifyError(err);
  return ApplicationFailure.create({
    type: classified.name,
    message: classified.message,
    nonRetryable: !classified.retryable,
    details: [{ code: classified.code, ...(classified.details ?? {}) }],
    cause: err instanceof Error ? err : undefined,
  });
}

type AsyncFunctions = Record<string, (...args: never[]) => Promise<unknown>>;

/** The same activities, each throwing only classified Temporal failures. */
export function withFailureMapping<T extends AsyncFunctions>(activities: T): T {
  const mapped: Record<string, unknown> = {};
  for (const [name, run] of Object.entries(activities)) {
    mapped[name] = async (...args: never[]) => {
      try {
        return await run(...args);
      } catch (err) {
        throw toTemporalFailure(err);
      }
    };
  }
  return mapped as T;
}
