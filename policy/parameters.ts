import { z } from 'zod';
import { ValidationError } from '../lib/errors';
import { ACTION_TYPES, type ActionType } from './action-types';

const amount = z.string().regex(/^\d{1,12}(\.\d{1,2})?$/, 'an amount like 12.50');
const fraction = z.number().min(0).max(1);

/**
 * One action's numbers. `thresholds` are what the rules compare facts to ({fact: 'parameters', path:
 * '$.<action>.thresholds.<name>'}); the rest prices the action: expected value = weight × P(churn) × CLV ×
 * responseRate − incentive − cost, and incentive = min(incentiveRate × conservative CLV, incentiveCap).
 */
const actionParameters = z
  .object({
    /** Assumed probability that the customer is retained because of this action (owners' estimate, per action). */
    responseRate: fraction,
    /** Owners' weight on the action's retained value (e.g. 0.5 to favour cheaper actions), default 1. */
    weight: z.number().min(0).max(10).default(1),
    /** Fixed cost of one action (agent time, sending), besides the incentive. */
    cost: amount.default('0'),
    incentiveRate: fraction.optional(),
    incentiveCap: amount.optional(),
    /** Where the action goes: a campaign's key or a CRM queue; what a campaign suppression matches. */
    campaign: z.string().min(1).max(200),
    /** Campaign routing: price-sensitive customers go to this campaign instead (e.g. a discount-led one). */
    priceSensitiveCampaign: z.string().min(1).max(200).optional(),
    thresholds: z.record(z.number()).default({}),
    /** CRM script hints, looked up as "price_sensitive" (if so), then the segment's name, then "default". */
    scriptHints: z.record(z.string().min(1)).optional(),
  })
  .strict()
  .refine((a) => (a.incentiveRate === undefined) === (a.incentiveCap === undefined), {
    message: 'incentiveRate and incentiveCap go together: an incentive is always capped',
  });
export type ActionParameters = z.infer<typeof actionParameters>;

/** A segment's overrides: any action's fields, thresholds and script hints merged key by key. */
const actionOverride = z
  .object({
    responseRate: fraction,
    weight: z.number().min(0).max(10),
    cost: amount,
    incentiveRate: fraction,
    incentiveCap: amount,
    campaign: z.string().min(1).max(200),
    priceSensitiveCampaign: z.string().min(1).max(200),
    thresholds: z.record(z.number()),
    scriptHints: z.record(z.string().min(1)),
  })
  .partial()
  .strict();
type ActionOverride = z.infer<typeof actionOverride>;

const actionTypeKey = z.enum(ACTION_TYPES);

/** Owner-set thresholds of the approval queue: any one met makes an action high-impact. */
const impactTiersSchema = z
  .object({
    /** Incentive at or above this amount; null: no incentive threshold. */
    minIncentive: amount.nullable().default(null),
    /** Expected CLV at or above this amount; null: no CLV threshold. */
    minClv: amount.nullable().default(null),
    /** Action types that always wait for a person. */
    actionTypes: z.array(actionTypeKey).default([]),
    /** While a monitoring alert is open (`alerts`), every action waits for a person. */
    whileAlertOpen: z.boolean().default(true),
    /** Hours after which an unanswered approval is escalated (flagged in the queue, audited). */
    escalateAfterHours: z
      .number()
      .min(0.001)
      .max(24 * 90)
      .default(24),
  })
  .strict();

export const policyParametersSchema = z
  .object({
    actions: z.record(actionTypeKey, actionParameters),
    segments: z.record(z.string().min(1), z.record(actionTypeKey, actionOverride)).default({}),
    /** An action is taken only if its expected value is above this (in currency units). */
    minExpectedValue: z.number().default(0),
    budget: z
      .object({
        period: z.enum(['week', 'month', 'quarter']),
        /** Total incentive per period over every segment; null: no overall limit. */
        overall: amount.nullable(),
        segments: z.record(z.string().min(1), amount).default({}),
      })
      .strict(),
    /** Share of customers in the control group: decided and recorded as holdout, never delivered. */
    holdoutRate: fraction,
    /** E.g. {actionTypes: ['retention_offer'], max: 1, days: 30}; an empty actionTypes list counts every contact. */
    frequencyCaps: z
      .array(
        z.object({ actionTypes: z.array(actionTypeKey), max: z.number().int().min(1), days: z.number().int().min(1).max(366) }).strict(),
      )
      .default([]),
    /** How long an action stays open (awaiting approval or delivery) before it expires. */
    actionValidityDays: z.number().int().min(1).max(90).default(14),
    /** Which actions are high-impact and wait for a person (policy/impact-tiers.ts); the rest are approved automatically. */
    impactTiers: impactTiersSchema.default({}),
  })
  .strict();
export type PolicyParameters = z.infer<typeof policyParametersSchema>;

export function parsePolicyParameters(value: unknown): PolicyParameters {
  const parsed = policyParametersSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Every problem, each naming its field, so a form can mark all of them at once; the message names the first.
  const issues = parsed.error.issues.map((issue) => ({ field: ['parameters', ...issue.path].join('.'), message: issue.message }));
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  throw new ValidationError(`${first.field}: ${first.message}${more}`, first.field, { issues });
}

/** Every action's parameters for one segment, its overrides merged over the defaults. */
export type ResolvedParameters = Partial<Record<ActionType, ActionParameters>>;

function merge(base: ActionParameters, override: ActionOverride | undefined): ActionParameters {
  if (!override) return base;
  return {
    ...base,
    ...override,
    thresholds: { ...base.thresholds, ...override.thresholds },
    scriptHints: base.scriptHints || override.scriptHints ? { ...base.scriptHints, ...override.scriptHints } : undefined,
  };
}

/** Resolves parameters per segment once per evaluation (segments are few): a Map lookup per customer after that. */
export function parameterResolver(parameters: PolicyParameters): (segment: string | null) => ResolvedParameters {
  const cache = new Map<string | null, ResolvedParameters>();
  return (segment) => {
    let resolved = cache.get(segment);
    if (!resolved) {
      const overrides = segment === null ? undefined : parameters.segments[segment];
      resolved = Object.fromEntries(
        Object.entries(parameters.actions).map(([type, base]) => [type, merge(base, overrides?.[type as ActionType])]),
      ) as ResolvedParameters;
      cache.set(segment, resolved);
    }
    return resolved;
  };
}
