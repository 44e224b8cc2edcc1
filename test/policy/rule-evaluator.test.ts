import { expect } from 'chai';
import { Engine, type RuleProperties } from 'json-rules-engine';
import { mulberry32 } from '../../lib/random';
import { DEFAULT_PARAMETERS, DEFAULT_RULES } from '../../policy/default-policy';
import type { CustomerFacts } from '../../policy/facts';
import { parameterResolver, parsePolicyParameters } from '../../policy/parameters';
import { compileRules } from '../../policy/rule-evaluator';
import { parsePolicyRules } from '../../policy/rules';

/** Extra rules exercising every operator, any/not, nulls and list facts. */
const OPERATOR_RULES = [
  {
    name: 'operators',
    conditions: {
      any: [
        {
          all: [
            { fact: 'segment', operator: 'notIn', value: ['Lost', 'Hibernating'] },
            { fact: 'drivers', operator: 'contains', value: 'd1' },
          ],
        },
        { not: { fact: 'openActionTypes', operator: 'doesNotContain', value: 'campaign' } },
        {
          all: [
            { fact: 'priceSensitive', operator: 'equal', value: true },
            { fact: 'clusterId', operator: 'notEqual', value: 2 },
          ],
        },
        {
          all: [
            { fact: 'pAlive', operator: 'lessThanInclusive', value: 0.3 },
            { fact: 'ordersLast90Days', operator: 'greaterThan', value: 1 },
          ],
        },
      ],
    },
    event: { type: 'campaign' },
  },
];

describe('policy rules: the compiled evaluator agrees with json-rules-engine', () => {
  it('fires the same rules for random customers, including missing values, with the same thresholds', async () => {
    const random = mulberry32(7);
    const parameters = parsePolicyParameters(DEFAULT_PARAMETERS);
    const rules = parsePolicyRules([...DEFAULT_RULES, ...OPERATOR_RULES], parameters);
    const evaluate = compileRules(rules);
    const resolve = parameterResolver(parameters);
    const engine = new Engine(rules as RuleProperties[], { allowUndefinedFacts: true });
    const segments = ['Champions', 'Loyal', 'At risk', 'Lost', 'Hibernating', "Can't lose", null];
    const maybe = <T>(v: T) => (random() < 0.1 ? null : v);
    let fired = 0;
    for (let i = 0; i < 3000; i++) {
      const clv = maybe(Math.round(random() * 60000) / 100);
      const facts: CustomerFacts = {
        customerId: `c${i}`,
        segment: segments[Math.floor(random() * segments.length)]!,
        clusterId: Math.floor(random() * 4),
        priceSensitive: maybe(random() < 0.5),
        churnProbability: maybe(random()),
        riskBand: 'high',
        pAlive: maybe(random()),
        clvExpected: clv,
        clvLower: null,
        clvConservative: clv === null ? null : Math.round(clv * random() * 100) / 100,
        confidence: 'high',
        drivers: random() < 0.5 ? ['d1', 'd2'] : [],
        daysSinceLastOrder: maybe(Math.floor(random() * 400)),
        ordersLast90Days: Math.floor(random() * 3),
        openActionTypes: random() < 0.2 ? ['campaign'] : [],
        contactsLast30Days: 0,
        suppressions: [],
        holdout: false,
      };
      const ours = evaluate.fire(facts, resolve(facts.segment));
      const theirs = await engine.run({ ...facts, parameters: resolve(facts.segment) });
      expect(
        ours.map((r) => r.rule),
        `customer ${i}`,
      ).to.deep.equal(theirs.results.map((r) => r.name));
      fired += ours.length;
      // Every traced condition of a fired rule: the value and threshold json-rules-engine compared.
      for (const result of theirs.results.filter((r) => DEFAULT_RULES.some((d) => d.name === r.name))) {
        const mine = ours.find((r) => r.rule === result.name)!;
        const conditions = (
          result.conditions as unknown as { all: { fact: string; factResult: unknown; valueResult: unknown; result: boolean }[] }
        ).all;
        expect(
          evaluate.trace(mine.index, facts, resolve(facts.segment)).map((c) => [c.fact, c.value, c.threshold, c.result]),
        ).to.deep.equal(conditions.map((c) => [c.fact, c.factResult, c.valueResult, c.result]));
      }
    }
    expect(fired).to.be.greaterThan(1000);
  });
});
