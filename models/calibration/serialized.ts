/**
 * Reading a calibrator back from its toJSON() output, which may have been stored in Postgres or a file
 * by another version of the code: anything malformed becomes a ValidationError naming the first bad field.
 */
import type { z } from 'zod';
import { ValidationError } from '../../lib/errors';

export function parseCalibratorJSON<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, json: unknown, what: string): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const { issues } = parsed.error;
    const problems = issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new ValidationError(`Invalid ${what}: ${problems}`, issues[0].path.join('.') || undefined);
  }
  return parsed.data;
}
