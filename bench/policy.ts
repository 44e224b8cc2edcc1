import os from 'node:os';
import { Engine, type RuleProperties } from 'json-rules-engine';
import { mulberry32 } from '../lib/random';
import { DEFAULT_PARAMETERS, DEFAULT_RULES } from '../policy/default-policy';
import { customerContext, type CustomerContext } from '../policy/facts';
import { inHoldout } from '../policy/holdout';
import { parameterResolver, parsePolicyParameters } from '../policy/parameters';
import { planPolicy } from '../policy/plan';
import { parsePolicyRules } from '../policy/rules';

/**
 * Policy evaluation in memory: `n` synthetic scored customers (seeded) → facts → the default policy's plan (rules,
 * pricing, arbitration, budget, holdout, status), as evaluatePolicy and simulatePolicy run it, without the database.
 * For comparison, json-rules-engine's own Engine.run on a sample of the same facts. Usage: npx tsx bench/policy.ts [n]
 */
const n = Number(process.argv[2] ?? 200_000);
const random = mulberry32(11);
const segments = [
  'Champions',
  'Loyal',
  'Potential loyalist',
  'New',
  'Promising',
  'Needs attention',
  'At risk',
  "Can't lose",
  'Hibernating',
  'Lost',
];
const now = new Date('2026-11-15T00:00:00Z');
const parameters = parsePolicyParameters({
  ...DEFAULT_PARAMETERS,
  budget: { period: 'month', overall: '250000.00', segments: { 'At risk': '50000.00' } },
});
const rules = parsePolicyRules(DEFAULT_RULES, parameters);

let started = process.hrtime.bigint();
const elapsedMs = () => Number(process.hrtime.bigint() - started) / 1e6;
const customers: CustomerContext[] = [];
for (let i = 0; i < n; i++) {
  const id = `C${String(i).padStart(7, '0')}`;
  const clv = Math.round(random() * random() * 200_000) / 100;
  customers.push(
    customerContext(
      {
        customer_id: id,
        segment: segments[Math.floor(random() * segments.length)]!,
        cluster_id: Math.floor(random() * 6),
        price_sensitive: random() < 0.3,
        churn_probability: random(),
        risk_band: 'high',
        p_alive: random(),
        clv_expected_net_revenue: clv.toFixed(2),
        clv_lower: random() < 0.8 ? (clv * (0.4 + 0.5 * random())).toFixed(2) : null,
        confidence: random() < 0.1 ? 'low' : 'high',
        churn_drivers: [{ sentence: 'No order for 94 days, three times the usual gap' }, { sentence: 'Spends less than before' }],
        model_versions: { churn: 'churn@3', clv: 'clv@2' },
      },
      {
        daysSinceLastOrder: Math.floor(random() * 400),
        ordersLast90Days: Math.floor(random() * 3),
        openActionTypes: random() < 0.05 ? ['campaign'] : [],
        contacts: random() < 0.1 ? [{ actionType: 'retention_offer', at: now.getTime() - 86_400_000 * Math.floor(random() * 40) }] : [],
        contactsLast30Days: 0,
        suppressions: random() < 0.01 ? ['manual'] : [],
        holdout: inHoldout('retention', id, parameters.holdoutRate),
      },
    ),
  );
}
const buildMs = elapsedMs();

const runs: number[] = [];
let plan = planPolicy(customers, {
  policyKey: 'retention',
  rules,
  parameters,
  killSwitch: false,
  campaignSuppressions: new Map(),
  spent: { overallCents: 0, bySegmentCents: new Map() },
  now,
});
for (let r = 0; r < 3; r++) {
  started = process.hrtime.bigint();
  plan = planPolicy(customers, {
    policyKey: 'retention',
    rules,
    parameters,
    killSwitch: false,
    campaignSuppressions: new Map(),
    spent: { overallCents: 0, bySegmentCents: new Map() },
    now,
  });
  runs.push(elapsedMs());
}
const planMs = [...runs].sort((a, b) => a - b)[1]!;

async function engineSample(size: number): Promise<number> {
  const engine = new Engine(rules as RuleProperties[], { allowUndefinedFacts: true });
  const resolve = parameterResolver(parameters);
  started = process.hrtime.bigint();
  for (const c of customers.slice(0, size)) await engine.run({ ...c.facts, parameters: resolve(c.facts.segment) });
  return elapsedMs();
}

void (async () => {
  const sample = Math.min(n, 20_000);
  const engineMs = await engineSample(sample);
  const statuses: Record<string, number> = {};
  for (const a of plan.actions) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
  const perMillion = (ms: number, count: number) => ((ms / count) * 1e6) / 1000;
  console.log(
    JSON.stringify(
      {
        machine: `${os.cpus()[0]?.model} × ${os.cpus().length}, load ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}, node ${process.version}`,
        date: new Date().toISOString(),
        customers: n,
        buildFactsMs: Math.round(buildMs),
        planMsMedianOf3: Math.round(planMs),
        planRunsMs: runs.map(Math.round),
        extrapolatedSecondsPerMillion: Math.round(perMillion(planMs, n) * 10) / 10,
        actions: plan.actions.length,
        statuses,
        leftOutByBudget: plan.leftOutByBudget.length,
        jsonRulesEngineSample: {
          customers: sample,
          ms: Math.round(engineMs),
          extrapolatedSecondsPerMillion: Math.round(perMillion(engineMs, sample)),
        },
        heapMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      },
      null,
      2,
    ),
  );
})();
