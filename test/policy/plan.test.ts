import { expect } from 'chai';
import { DEFAULT_PARAMETERS, DEFAULT_RULES } from '../../policy/default-policy';
import { customerContext, type CustomerContext, type ProfileInput, type ProfileSurroundings } from '../../policy/facts';
import { inHoldout } from '../../policy/holdout';
import { parsePolicyParameters, type PolicyParameters } from '../../policy/parameters';
import { planPolicy, type PlanSettings } from '../../policy/plan';
import { parsePolicyRules } from '../../policy/rules';

const NOW = new Date('2026-11-15T12:00:00Z');

function customer(id: string, p: Partial<ProfileInput> = {}, around: Partial<ProfileSurroundings> = {}): CustomerContext {
  return customerContext(
    {
      customer_id: id,
      segment: 'At risk',
      cluster_id: 1,
      price_sensitive: false,
      churn_probability: 0.7,
      risk_band: 'high',
      p_alive: 0.8,
      clv_expected_net_revenue: '200.00',
      confidence: 'high',
      churn_drivers: [{ sentence: 'No order for 94 days, three times the usual gap' }, { sentence: 'Spends less than before' }],
      model_versions: { churn: 'churn@1' },
      ...p,
    },
    {
      daysSinceLastOrder: 94,
      ordersLast90Days: 0,
      openActionTypes: [],
      contacts: [],
      contactsLast30Days: 0,
      suppressions: [],
      holdout: false,
      ...around,
    },
  );
}

function settings(overrides: Partial<PolicyParameters> = {}, s: Partial<PlanSettings> = {}): PlanSettings {
  // No impact tiers unless a test sets them: these tests are about rules, budgets and holdouts, not the approval queue.
  const parameters = parsePolicyParameters({ ...DEFAULT_PARAMETERS, holdoutRate: 0, impactTiers: { whileAlertOpen: false }, ...overrides });
  return {
    policyKey: 'retention',
    rules: parsePolicyRules(DEFAULT_RULES, parameters),
    parameters,
    killSwitch: false,
    campaignSuppressions: new Map(),
    spent: { overallCents: 0, bySegmentCents: new Map() },
    now: NOW,
    ...s,
  };
}

const only = (customers: CustomerContext[], s = settings()) => planPolicy(customers, s).actions;

describe('policy plan: rules, pricing and arbitration', () => {
  const offer = (c: CustomerContext) => {
    const candidate = planPolicy([c], settings()).actions[0]!.arbitration.candidates.find((x) => x.actionType === 'retention_offer');
    return candidate?.incentive;
  };

  it('sizes a retention offer on the conservative CLV (the interval’s lower end) and never above the cap', () => {
    const [lower] = only([customer('a', { clv_expected_net_revenue: '200.00', clv_lower: '120.00' })]);
    expect(lower!.candidate.actionType).to.equal('retention_offer');
    expect(lower!.parameters).to.include({ incentive: '12.00', clvBasis: 'clv_lower', conservativeClv: '120.00' }); // 10% of 120, not of 200
    expect(offer(customer('b', { clv_expected_net_revenue: '180.00' }))).to.equal(18); // no interval: the expected value
    expect(offer(customer('c', { clv_expected_net_revenue: '5000.00', clv_lower: '3000.00' }))).to.equal(25); // 300 capped at 25
    expect(offer(customer('d', { segment: 'Champions', clv_expected_net_revenue: '5000.00' }))).to.equal(40); // the segment's cap
    // An uncertain CLV whose lower end is below the offer threshold earns no offer at all.
    expect(offer(customer('e', { clv_expected_net_revenue: '400.00', clv_lower: '30.00' }))).to.equal(undefined);
  });

  it('chooses the eligible action with the highest expected value and explains it', () => {
    const [a] = only([customer('a', { clv_expected_net_revenue: '200.00' })]);
    // retention: 0.7 × 200 × 0.25 − 20 − 0.5 = 14.5; outreach: 0.7 × 200 × 0.08 − 4 = 7.2
    expect(a!.candidate.actionType).to.equal('retention_offer');
    expect(a!.candidate.expectedValue).to.be.closeTo(14.5, 1e-9);
    expect(a!.arbitration.candidates.map((c) => [c.actionType, c.expectedValue])).to.deep.equal([
      ['retention_offer', 14.5],
      ['proactive_outreach', 7.2],
    ]);
    // Without an offer (the conservative CLV is too low), outreach: a CRM task with the reason and a script hint.
    const [b] = only([customer('b', { clv_expected_net_revenue: '200.00', clv_lower: '30.00' })]);
    expect(b!.candidate.actionType).to.equal('proactive_outreach');
    expect(b!.parameters.reason).to.equal(
      'Churn risk 70% (high): No order for 94 days, three times the usual gap; Spends less than before',
    );
    expect(b!.parameters.scriptHint).to.match(/Ask what changed/);
    const [priceSensitive] = only([customer('c', { price_sensitive: true, clv_lower: '30.00' })]);
    expect(priceSensitive!.parameters.scriptHint).to.match(/Lead with value/);
    const threshold = b!.conditions.find((c) => c.fact === 'churnProbability')!;
    expect(threshold).to.include({
      parameter: '$.proactive_outreach.thresholds.minChurnProbability',
      threshold: 0.4,
      value: 0.7,
      result: true,
    });
  });

  it('routes campaigns by segment and price sensitivity', () => {
    const plan = only([
      customer('a', { churn_probability: 0.1, segment: 'Champions' }),
      customer('b', { churn_probability: 0.1, segment: 'New' }),
      customer('c', { churn_probability: 0.1, segment: 'Hibernating' }),
      customer('d', { churn_probability: 0.1, segment: 'Hibernating', price_sensitive: true }),
    ]);
    expect(plan.map((a) => a.candidate.campaign)).to.deep.equal([
      'vip-early-access',
      'welcome-series',
      'seasonal-newsletter',
      'deals-digest',
    ]);
    expect(plan.every((a) => a.candidate.actionType === 'campaign')).to.equal(true);
  });

  it('offers win-back to lapsed customers and priority support to valuable loyal ones', () => {
    const [lapsed] = only([
      customer('a', { p_alive: 0.05, churn_probability: 0.9, clv_expected_net_revenue: '60.00' }, { daysSinceLastOrder: 200 }),
    ]);
    expect(lapsed!.candidate.actionType).to.equal('win_back');
    expect(lapsed!.parameters.incentive).to.equal('3.00'); // 5% of 60
    const [loyal] = only([customer('b', { segment: 'Loyal', churn_probability: 0.35, clv_expected_net_revenue: '2000.00' })]);
    expect(loyal!.arbitration.candidates.map((c) => c.actionType)).to.include('priority_support');
  });

  it('never acts automatically on low confidence, and holds everything for a person while the kill switch is on', () => {
    const [low, high] = only([customer('a', { confidence: 'low' }), customer('b')]);
    expect([low!.status, low!.statusReason]).to.deep.equal(['pending_approval', 'low_confidence']);
    expect([high!.status, high!.statusReason]).to.deep.equal(['auto_approved', 'low_impact']);
    const killed = only([customer('b')], settings({}, { killSwitch: true }));
    expect([killed[0]!.status, killed[0]!.statusReason]).to.deep.equal(['pending_approval', 'kill_switch']);
  });

  it('honours suppressions (customer, segment, campaign), frequency caps and open actions', () => {
    const [suppressed] = only([customer('a', {}, { suppressions: ['complained to support'] })]);
    expect([suppressed!.status, suppressed!.statusReason]).to.deep.equal(['suppressed', 'suppression']);
    const campaigns = only(
      [customer('b', { churn_probability: 0.1, segment: 'New' })],
      settings({}, { campaignSuppressions: new Map([['welcome-series', 'paused']]) }),
    );
    expect([campaigns[0]!.status, campaigns[0]!.statusReason]).to.deep.equal(['suppressed', 'suppression']);

    // An offer 10 days ago caps offers for 30 days: the customer gets the next-best action instead.
    const rich = { clv_expected_net_revenue: '1000.00' };
    const [uncapped] = only([customer('c', rich)]);
    expect(uncapped!.candidate.actionType).to.equal('retention_offer');
    const [capped] = only([customer('c', rich, { contacts: [{ actionType: 'retention_offer', at: NOW.getTime() - 10 * 86_400_000 }] })]);
    expect(capped!.candidate.actionType).to.equal('proactive_outreach');
    expect(capped!.arbitration.blocked).to.deep.equal([
      { actionType: 'retention_offer', reason: 'frequency_cap', detail: 'at most 1 retention_offer/win_back per 30 days' },
    ]);
    const [old] = only([customer('c', rich, { contacts: [{ actionType: 'retention_offer', at: NOW.getTime() - 31 * 86_400_000 }] })]);
    expect(old!.candidate.actionType).to.equal('retention_offer');
    // Three contacts of any kind in 30 days: nothing more.
    const busy = [1, 2, 3].map((d) => ({ actionType: 'campaign', at: NOW.getTime() - d * 86_400_000 }));
    const [full] = only([customer('d', rich, { contacts: busy })]);
    expect([full!.status, full!.statusReason]).to.deep.equal(['suppressed', 'frequency_cap']);
    // An action already open is not proposed again (and not recorded as suppressed).
    expect(only([customer('e', { churn_probability: 0.1 }, { openActionTypes: ['campaign'] })])).to.deep.equal([]);
  });

  it('puts the holdout group aside deterministically: decided and recorded, never spending budget', () => {
    const customers = Array.from({ length: 400 }, (_, i) => customer(`c${i}`, { clv_expected_net_revenue: '1000.00' }));
    const withHoldout = customers.map((c) => ({ ...c, facts: { ...c.facts, holdout: inHoldout('retention', c.facts.customerId, 0.2) } }));
    const plan = planPolicy(withHoldout, settings({ budget: { period: 'month', overall: '100.00', segments: {} } }));
    const held = plan.actions
      .filter((a) => a.status === 'holdout')
      .map((a) => a.context.facts.customerId)
      .sort();
    const expected = withHoldout
      .filter((c) => c.facts.holdout)
      .map((c) => c.facts.customerId)
      .sort();
    expect(held).to.deep.equal(expected);
    expect(held.length).to.be.within(50, 110);
    // The same customers every time, and a different group for another policy.
    expect(withHoldout.filter((c) => inHoldout('retention', c.facts.customerId, 0.2)).length).to.equal(held.length);
    expect(
      customers
        .filter((c) => inHoldout('other', c.facts.customerId, 0.2))
        .map((c) => c.facts.customerId)
        .sort(),
    ).to.not.deep.equal(held);
    const spent = plan.actions.filter((a) => a.status === 'auto_approved').reduce((s, a) => s + a.candidate.incentiveCents, 0);
    expect(spent).to.equal(10000); // four offers of 25.00; the holdout's offers spend nothing
  });

  it('never exceeds a budget and spends it on the highest expected values first, overall and per segment', () => {
    // Offers of 25.00 each (capped), expected values rising with CLV; 110.00 buys four.
    const customers = Array.from({ length: 30 }, (_, i) =>
      customer(`c${String(i).padStart(2, '0')}`, {
        clv_expected_net_revenue: `${400 + i * 37}.00`,
        segment: i % 2 ? 'At risk' : "Can't lose",
      }),
    );
    const plan = planPolicy(customers, settings({ budget: { period: 'month', overall: '110.00', segments: { 'At risk': '25.00' } } }));
    const offers = plan.actions.filter((a) => a.candidate.actionType === 'retention_offer' && a.status === 'auto_approved');
    const total = offers.reduce((s, a) => s + a.candidate.incentiveCents, 0);
    expect(total).to.equal(10000);
    expect(offers.filter((a) => a.context.facts.segment === 'At risk')).to.have.length(1);
    const ev = (id: string) => plan.actions.find((a) => a.context.facts.customerId === id)!.arbitration.candidates[0]!.expectedValue;
    const worstTaken = (segment: string) =>
      Math.min(...offers.filter((a) => a.context.facts.segment === segment).map((a) => ev(a.context.facts.customerId)));
    // The offers went to the best: the best "At risk" customer and the three best "Can't lose" ones.
    expect(offers.map((a) => a.context.facts.customerId).sort()).to.deep.equal(['c24', 'c26', 'c28', 'c29']);
    for (const left of plan.leftOutByBudget) expect(left.wanted.expectedValue).to.be.at.most(worstTaken(left.segment!) + 1e-9);
    // Everyone left out fell back to an action without incentive, and more budget is worth something.
    expect(plan.leftOutByBudget).to.have.length(26);
    expect(plan.leftOutByBudget.every((l) => l.fallback?.actionType === 'proactive_outreach')).to.equal(true);
    expect(plan.budget.overall).to.equal('10.00');
    expect(plan.budget.moreBudget.expectedValuePerUnit).to.be.greaterThan(0);
    // Money already committed this period counts.
    const later = planPolicy(
      customers,
      settings(
        { budget: { period: 'month', overall: '110.00', segments: {} } },
        { spent: { overallCents: 9000, bySegmentCents: new Map() } },
      ),
    );
    expect(later.actions.filter((a) => a.candidate.incentiveCents > 0 && a.status === 'auto_approved')).to.have.length(0);
  });

  it('refuses rules that name unknown facts, actions or thresholds, naming the rule and field', () => {
    const parameters = parsePolicyParameters(DEFAULT_PARAMETERS);
    const bad = (rules: unknown) => () => parsePolicyRules(rules, parameters);
    const rule = (conditions: unknown, type = 'campaign') => [{ name: 'r', conditions, event: { type } }];
    expect(bad(rule({ all: [{ fact: 'shoeSize', operator: 'equal', value: 1 }] }))).to.throw(
      /rules\[0\]\.conditions\.all\[0\]\.fact: unknown fact/,
    );
    expect(bad(rule({ all: [{ fact: 'pAlive', operator: 'equal', value: 1 }] }, 'free_pony'))).to.throw(/event\.type: unknown action/);
    expect(
      bad(rule({ all: [{ fact: 'pAlive', operator: 'lessThan', value: { fact: 'parameters', path: '$.campaign.thresholds.nope' } }] })),
    ).to.throw(/\$\.campaign\.thresholds\.nope is not a number/);
    expect(bad(rule({ all: [{ fact: 'pAlive', operator: 'regex', value: 1 }] }))).to.throw(/unsupported operator/);
    expect(() => parsePolicyParameters({ ...DEFAULT_PARAMETERS, holdoutRate: 2 })).to.throw(/parameters\.holdoutRate/);
    expect(() =>
      parsePolicyParameters({
        ...DEFAULT_PARAMETERS,
        actions: { ...DEFAULT_PARAMETERS.actions, win_back: { ...DEFAULT_PARAMETERS.actions.win_back!, incentiveCap: undefined } },
      }),
    ).to.throw(/always capped/);
  });
});
