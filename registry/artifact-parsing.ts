import { z } from 'zod';
import { ValidationError } from '../lib/errors';

/** An estimator's own JSON inside a bundle: an object, whose shape the estimator's fromJSON checks. */
export const estimatorJson = z.object({}).passthrough();

/** Parses a registry artifact with zod; the first problem becomes a ValidationError naming its field. */
export function parseArtifact<S extends z.ZodTypeAny>(schema: S, json: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || 'artifact';
  throw new ValidationError(`Invalid ${what}, field "${field}": ${issue.message}`, field);
}

/** Restores one estimator of a bundle; the estimator's own refusal is re-thrown naming the bundle's field. */
export function restoreField<T>(field: string, what: string, restore: () => T): T {
  try {
    return restore();
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`Invalid ${what}, field "${field}": ${err.message}`, field);
    throw err;
  }
}
