import { Rule, type RuleProperties } from 'json-rules-engine';
import { ValidationError } from '../lib/errors';
import { isActionType, type ActionType } from './action-types';
import { FACT_NAMES } from './facts';
import { parameterResolver, type PolicyParameters } from './parameters';

/**
 * A policy's structure: json-rules-engine rules whose events are action types and whose thresholds are references
 * into the parameters, e.g. {fact: 'churnProbability', operator: 'greaterThanInclusive', value: {fact: 'parameters',
 * path: '$.retention_offer.thresholds.minChurnProbability'}}. Owners tune the numbers without touching the rules.
 *
 * Rules are stored and validated as json-rules-engine rules (the library parses each one) and limited to what this
 * module evaluates identically and fast enough for a million customers: all/any/not, the default operators, literal
 * values or parameter paths. test/policy/rule-evaluator.test.ts proves the evaluator agrees with json-rules-engine.
 */
export type PolicyRule = RuleProperties & { name: string; event: { type: ActionType } };

export const OPERATORS = [
  'equal',
  'notEqual',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Leaf {
  fact: string;
  operator: Operator;
  value: unknown;
}
export type ConditionNode = { all: ConditionNode[] } | { any: ConditionNode[] } | { not: ConditionNode } | Leaf;

const PARAMETER_PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

export function isParameterReference(value: unknown): value is { fact: 'parameters'; path: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { fact?: unknown }).fact === 'parameters';
}

/** '$.a.b' → ['a', 'b']. */
export function pathKeys(path: string): string[] {
  return path.split('.').slice(1);
}

function validateCondition(node: unknown, where: string, paths: Set<string>): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) throw new ValidationError(`${where} must be an object`, where);
  const n = node as Record<string, unknown>;
  const keys = Object.keys(n);
  for (const group of ['all', 'any'] as const) {
    if (group in n) {
      if (keys.length !== 1) throw new ValidationError(`${where}: "${group}" stands alone in its condition`, where);
      const children = n[group];
      if (!Array.isArray(children) || children.length === 0)
        throw new ValidationError(`${where}.${group} must be a non-empty list of conditions`, `${where}.${group}`);
      children.forEach((c, i) => validateCondition(c, `${where}.${group}[${i}]`, paths));
      return;
    }
  }
  if ('not' in n) {
    if (keys.length !== 1) throw new ValidationError(`${where}: "not" stands alone in its condition`, where);
    validateCondition(n.not, `${where}.not`, paths);
    return;
  }
  const extra = keys.filter((k) => !['fact', 'operator', 'value'].includes(k));
  if (extra.length > 0) throw new ValidationError(`${where}: unsupported condition keys ${extra.join(', ')}`, where);
  if (!(FACT_NAMES as readonly unknown[]).includes(n.fact))
    throw new ValidationError(`${where}.fact: unknown fact ${JSON.stringify(n.fact)} (known: ${FACT_NAMES.join(', ')})`, `${where}.fact`);
  if (!(OPERATORS as readonly unknown[]).includes(n.operator))
    throw new ValidationError(`${where}.operator: unsupported operator ${JSON.stringify(n.operator)}`, `${where}.operator`);
  const value = n.value;
  if (isParameterReference(value)) {
    const keysOfRef = Object.keys(value);
    if (keysOfRef.some((k) => k !== 'fact' && k !== 'path') || typeof value.path !== 'string' || !PARAMETER_PATH.test(value.path))
      throw new ValidationError(
        `${where}.value: a parameter reference is {fact: "parameters", path: "$.<action>.thresholds.<name>"}`,
        `${where}.value`,
      );
    if (n.operator === 'in' || n.operator === 'notIn')
      throw new ValidationError(`${where}.value: "${n.operator}" needs a literal list, not a parameter`, `${where}.value`);
    paths.add(value.path);
    return;
  }
  const literal = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  const ok = Array.isArray(value) ? value.every(literal) : literal(value);
  if (!ok)
    throw new ValidationError(
      `${where}.value must be a number, string, boolean, null, a list of them, or a parameter reference`,
      `${where}.value`,
    );
  if ((n.operator === 'in' || n.operator === 'notIn') && !Array.isArray(value))
    throw new ValidationError(`${where}.value: "${n.operator}" needs a list`, `${where}.value`);
}

/**
 * Checks rules against the parameters: every rule parses in json-rules-engine, names a known action, uses only known
 * facts and operators, and every parameter it references is a number for every segment; every action a rule can
 * fire has parameters. Errors name the rule and the field.
 */
export function parsePolicyRules(value: unknown, parameters: PolicyParameters): PolicyRule[] {
  if (!Array.isArray(value) || value.length === 0) throw new ValidationError('rules must be a non-empty list of rules', 'rules');
  const names = new Set<string>();
  const resolve = parameterResolver(parameters);
  const segments = [null, ...Object.keys(parameters.segments)];
  return value.map((raw, i) => {
    const where = `rules[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new ValidationError(`${where} must be an object`, where);
    const rule = raw as Record<string, unknown>;
    if (typeof rule.name !== 'string' || rule.name.length === 0) throw new ValidationError(`${where}.name is required`, `${where}.name`);
    if (names.has(rule.name)) throw new ValidationError(`${where}.name: two rules are named ${rule.name}`, `${where}.name`);
    names.add(rule.name);
    const type = (rule.event as { type?: unknown } | undefined)?.type;
    if (!isActionType(type))
      throw new ValidationError(`${where}.event.type: unknown action ${JSON.stringify(type)}`, `${where}.event.type`);
    if (!parameters.actions[type])
      throw new ValidationError(`${where}: action ${type} has no parameters (parameters.actions.${type})`, `${where}.event.type`);
    if (rule.priority !== undefined && !(Number.isInteger(rule.priority) && (rule.priority as number) >= 1))
      throw new ValidationError(`${where}.priority must be a whole number from 1`, `${where}.priority`);
    const conditions = rule.conditions as Record<string, unknown> | undefined;
    if (!conditions || !('all' in conditions || 'any' in conditions || 'not' in conditions))
      throw new ValidationError(`${where}.conditions must start with all, any or not`, `${where}.conditions`);
    const paths = new Set<string>();
    validateCondition(conditions, `${where}.conditions`, paths);
    for (const path of paths)
      for (const segment of segments) {
        let v: unknown = resolve(segment);
        for (const key of pathKeys(path)) v = (v as Record<string, unknown> | undefined)?.[key];
        if (typeof v !== 'number')
          throw new ValidationError(
            `${where}: ${path} is not a number in the parameters${segment === null ? '' : ` of segment ${segment}`}`,
            `${where}.conditions`,
          );
      }
    try {
      new Rule(raw as RuleProperties);
    } catch (err) {
      throw new ValidationError(`${where}: json-rules-engine refuses the rule: ${(err as Error).message}`, where);
    }
    return raw as PolicyRule;
  });
}
