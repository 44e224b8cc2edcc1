import type { ActionType } from './action-types';
import type { CustomerFacts } from './facts';
import type { ResolvedParameters } from './parameters';
import { isParameterReference, pathKeys, type ConditionNode, type Leaf, type Operator, type PolicyRule } from './rules';

/** One condition as it was evaluated: the customer's value, the threshold it met, and the outcome. */
export interface ConditionTrace {
  fact: string;
  operator: Operator;
  /** The parameter path, when the threshold came from the parameters. */
  parameter?: string;
  threshold: unknown;
  value: unknown;
  result: boolean;
}

export interface FiredRule {
  /** The rule's place in the policy's list, for tracing it. */
  index: number;
  rule: string;
  priority: number;
  actionType: ActionType;
}

type Test = (facts: CustomerFacts, parameters: ResolvedParameters, trace: ConditionTrace[] | null) => boolean;

// json-rules-engine's default operators, with their fact validators (engine-default-operators.js).
const isNumber = (v: unknown) => Number.parseFloat(v as string).toString() !== 'NaN';
const OPERATOR_TESTS: Record<Operator, (a: unknown, b: unknown) => boolean> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  in: (a, b) => (b as unknown[]).indexOf(a) > -1,
  notIn: (a, b) => (b as unknown[]).indexOf(a) === -1,
  contains: (a, b) => Array.isArray(a) && a.indexOf(b) > -1,
  doesNotContain: (a, b) => Array.isArray(a) && a.indexOf(b) === -1,
  lessThan: (a, b) => isNumber(a) && (a as number) < (b as number),
  lessThanInclusive: (a, b) => isNumber(a) && (a as number) <= (b as number),
  greaterThan: (a, b) => isNumber(a) && (a as number) > (b as number),
  greaterThanInclusive: (a, b) => isNumber(a) && (a as number) >= (b as number),
};

function compileLeaf(leaf: Leaf): Test {
  const test = OPERATOR_TESTS[leaf.operator];
  const fact = leaf.fact as keyof CustomerFacts;
  if (isParameterReference(leaf.value)) {
    const [action, ...rest] = pathKeys(leaf.value.path) as [ActionType, ...string[]];
    const parameter = leaf.value.path;
    return (facts, parameters, trace) => {
      let threshold: unknown = parameters[action];
      for (const key of rest) threshold = (threshold as Record<string, unknown> | undefined)?.[key];
      const value = facts[fact];
      const result = test(value, threshold);
      trace?.push({ fact, operator: leaf.operator, parameter, threshold, value, result });
      return result;
    };
  }
  const threshold = leaf.value;
  return (facts, _parameters, trace) => {
    const value = facts[fact];
    const result = test(value, threshold);
    trace?.push({ fact, operator: leaf.operator, threshold, value, result });
    return result;
  };
}

function compileNode(node: ConditionNode): Test {
  if ('all' in node) {
    const children = node.all.map(compileNode);
    return (facts, parameters, trace) => {
      for (const child of children) if (!child(facts, parameters, trace)) return false;
      return true;
    };
  }
  if ('any' in node) {
    const children = node.any.map(compileNode);
    return (facts, parameters, trace) => {
      for (const child of children) if (child(facts, parameters, trace)) return true;
      return false;
    };
  }
  if ('not' in node) {
    const child = compileNode(node.not);
    return (facts, parameters, trace) => !child(facts, parameters, trace);
  }
  return compileLeaf(node);
}

export interface CompiledRules {
  /** The rules that fire for a customer, in the policy's order. */
  fire(facts: CustomerFacts, parameters: ResolvedParameters): FiredRule[];
  /** A fired rule's conditions as evaluated, with their thresholds: computed only for the action taken. */
  trace(index: number, facts: CustomerFacts, parameters: ResolvedParameters): ConditionTrace[];
}

/** Compiles validated rules (parsePolicyRules) into closures: no per-customer parsing, promises or copies. */
export function compileRules(rules: PolicyRule[]): CompiledRules {
  const compiled = rules.map((r, index) => ({
    fired: { index, rule: r.name, priority: r.priority ?? 1, actionType: r.event.type } as FiredRule,
    test: compileNode(r.conditions as unknown as ConditionNode),
  }));
  return {
    fire(facts, parameters) {
      const fired: FiredRule[] = [];
      for (const r of compiled) if (r.test(facts, parameters, null)) fired.push(r.fired);
      return fired;
    },
    trace(index, facts, parameters) {
      const conditions: ConditionTrace[] = [];
      compiled[index]!.test(facts, parameters, conditions);
      return conditions;
    },
  };
}
