import fs from 'node:fs';
import { z } from 'zod';
import { ValidationError } from '../lib/errors';

/**
 * The data-quality gate's checks, each with a threshold and an action: `fail` stops the pipeline, `warn` lets it go on
 * and says so. Defaults suit a daily export; a shop overrides any of them with a JSON file (FORESIGHT_QUALITY_RULES),
 * e.g. `{"freshness": {"maxDays": 7}, "volume": {"action": "warn"}}`.
 */
const action = z.enum(['fail', 'warn']);
export const qualityRulesSchema = z
  .object({
    /** Days between a source's newest event and the as-of. */
    freshness: z.object({ maxDays: z.number().positive(), action }).strict().default({ maxDays: 3, action: 'fail' }),
    /** The newest batch's accepted rows against the median of the earlier batches of the source: a drop or a spike. */
    volume: z
      .object({ minRatio: z.number().min(0), maxRatio: z.number().positive(), action })
      .strict()
      .default({ minRatio: 0.5, maxRatio: 2, action: 'warn' }),
    /** Share of the newest batch's rows that were rejected. */
    rejectRate: z
      .object({ max: z.number().min(0).max(1), action })
      .strict()
      .default({ max: 0.05, action: 'fail' }),
    /** Share of the newest batch's rows rejected for a missing required field. */
    completeness: z
      .object({ maxMissing: z.number().min(0).max(1), action })
      .strict()
      .default({ maxMissing: 0.02, action: 'warn' }),
    /** Share of the newest batch's rows refused because an identifier already maps to another customer. */
    identityConflicts: z
      .object({ max: z.number().min(0).max(1), action })
      .strict()
      .default({ max: 0.01, action: 'warn' }),
  })
  .strict();

export type QualityRules = z.infer<typeof qualityRulesSchema>;
export type CheckName = keyof QualityRules;

export const DEFAULT_QUALITY_RULES: QualityRules = qualityRulesSchema.parse({});

/** The rules of a JSON file (missing checks keep their defaults); a bad file names the field at fault. */
export function loadQualityRules(file: string | undefined): QualityRules {
  if (!file) return DEFAULT_QUALITY_RULES;
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ValidationError(
      `FORESIGHT_QUALITY_RULES: cannot read ${file} as JSON (${(err as Error).message})`,
      'FORESIGHT_QUALITY_RULES',
    );
  }
  const parsed = qualityRulesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.');
    throw new ValidationError(
      `FORESIGHT_QUALITY_RULES ${file}: ${field || '(root)'}: ${issue.message}`,
      field || 'FORESIGHT_QUALITY_RULES',
    );
  }
  return parsed.data;
}
