import type { Knex } from 'knex';
import type { Actor } from './actor';
import { activate, activeVersion, approve, createDraft, type PolicyVersion } from './lifecycle';
import type { PolicyParameters } from './parameters';

const threshold = (action: string, name: string) => ({ fact: 'parameters', path: `$.${action}.thresholds.${name}` });

/**
 * The default retention policy's structure. Thresholds live in DEFAULT_PARAMETERS, so owners change "how risky" and
 * "how valuable" without editing a rule.
 */
export const DEFAULT_RULES = [
  {
    name: 'retention-offer-for-valuable-at-risk',
    priority: 2,
    conditions: {
      all: [
        { fact: 'churnProbability', operator: 'greaterThanInclusive', value: threshold('retention_offer', 'minChurnProbability') },
        { fact: 'clvConservative', operator: 'greaterThanInclusive', value: threshold('retention_offer', 'minConservativeClv') },
        { fact: 'pAlive', operator: 'greaterThanInclusive', value: threshold('retention_offer', 'minPAlive') },
      ],
    },
    event: { type: 'retention_offer' },
  },
  {
    name: 'proactive-outreach-for-valuable-at-risk',
    conditions: {
      all: [
        { fact: 'churnProbability', operator: 'greaterThanInclusive', value: threshold('proactive_outreach', 'minChurnProbability') },
        { fact: 'clvExpected', operator: 'greaterThanInclusive', value: threshold('proactive_outreach', 'minClv') },
      ],
    },
    event: { type: 'proactive_outreach' },
  },
  {
    name: 'priority-support-for-best-customers',
    conditions: {
      all: [
        { fact: 'segment', operator: 'in', value: ['Champions', 'Loyal', "Can't lose"] },
        { fact: 'clvExpected', operator: 'greaterThanInclusive', value: threshold('priority_support', 'minClv') },
        { fact: 'churnProbability', operator: 'greaterThanInclusive', value: threshold('priority_support', 'minChurnProbability') },
      ],
    },
    event: { type: 'priority_support' },
  },
  {
    name: 'segment-campaign-for-healthy-customers',
    conditions: {
      all: [
        { fact: 'churnProbability', operator: 'lessThan', value: threshold('campaign', 'maxChurnProbability') },
        { fact: 'clvExpected', operator: 'greaterThan', value: 0 },
      ],
    },
    event: { type: 'campaign' },
  },
  {
    name: 'win-back-for-lapsed',
    conditions: {
      all: [
        { fact: 'pAlive', operator: 'lessThan', value: threshold('win_back', 'maxPAlive') },
        { fact: 'daysSinceLastOrder', operator: 'greaterThanInclusive', value: threshold('win_back', 'minDaysSinceLastOrder') },
        { fact: 'clvConservative', operator: 'greaterThanInclusive', value: threshold('win_back', 'minConservativeClv') },
      ],
    },
    event: { type: 'win_back' },
  },
];

/** The default numbers: response rates are assumptions to revisit once the holdout shows the real lift. */
export const DEFAULT_PARAMETERS: PolicyParameters = {
  actions: {
    retention_offer: {
      responseRate: 0.25,
      weight: 1,
      cost: '0.50',
      incentiveRate: 0.1,
      incentiveCap: '25.00',
      campaign: 'retention-offer',
      thresholds: { minChurnProbability: 0.6, minConservativeClv: 50, minPAlive: 0.2 },
    },
    proactive_outreach: {
      responseRate: 0.08,
      weight: 1,
      cost: '4.00',
      campaign: 'crm-outreach',
      thresholds: { minChurnProbability: 0.4, minClv: 100 },
      scriptHints: {
        price_sensitive: 'Lead with value: mention the current promotion and the free-shipping threshold.',
        Champions: 'Thank them for their loyalty; offer early access rather than a discount.',
        Loyal: 'Thank them for their loyalty and ask what would make the next order easier.',
        'At risk': 'Ask what changed since their last order and listen before offering anything.',
        "Can't lose": 'A senior agent calls: acknowledge their history with us and ask what went wrong.',
        default: 'Check in personally and ask how their last order went.',
      },
    },
    priority_support: {
      responseRate: 0.05,
      weight: 1,
      cost: '1.00',
      campaign: 'priority-support-queue',
      thresholds: { minClv: 300, minChurnProbability: 0.3 },
    },
    campaign: {
      responseRate: 0.01,
      weight: 1,
      cost: '0.05',
      campaign: 'seasonal-newsletter',
      priceSensitiveCampaign: 'deals-digest',
      thresholds: { maxChurnProbability: 0.3 },
    },
    win_back: {
      responseRate: 0.1,
      weight: 1,
      cost: '0.30',
      incentiveRate: 0.05,
      incentiveCap: '10.00',
      campaign: 'win-back',
      thresholds: { maxPAlive: 0.2, minDaysSinceLastOrder: 120, minConservativeClv: 10 },
    },
  },
  segments: {
    Champions: { retention_offer: { incentiveCap: '40.00' }, campaign: { campaign: 'vip-early-access' } },
    Loyal: { campaign: { campaign: 'loyalty-rewards' } },
    New: { campaign: { campaign: 'welcome-series' } },
    'Potential loyalist': { campaign: { campaign: 'second-purchase' } },
  },
  minExpectedValue: 0,
  budget: { period: 'month', overall: '5000.00', segments: { 'At risk': '1500.00' } },
  holdoutRate: 0.05,
  frequencyCaps: [
    { actionTypes: ['retention_offer', 'win_back'], max: 1, days: 30 },
    { actionTypes: [], max: 3, days: 30 },
  ],
  actionValidityDays: 14,
  // Offers of 25 or more, or customers worth 1,000 or more, go to a person; so does everything while an alert is open.
  impactTiers: { minIncentive: '25.00', minClv: '1000.00', actionTypes: [], whileAlertOpen: true, escalateAfterHours: 24 },
};

export const DEFAULT_POLICY_KEY = 'retention';

/**
 * Seeds the default policy once: drafted by "foresight-defaults", approved by the given owner (never its author) and
 * activated. Returns the active version, seeded now or earlier.
 */
export async function seedDefaultPolicy(db: Knex, approver: Actor): Promise<PolicyVersion> {
  const existing = await activeVersion(db, DEFAULT_POLICY_KEY);
  if (existing) return existing;
  const draft = await createDraft(
    db,
    {
      policyKey: DEFAULT_POLICY_KEY,
      name: 'Retention (default)',
      rules: DEFAULT_RULES,
      parameters: DEFAULT_PARAMETERS,
      note: 'default policy',
    },
    { name: 'foresight-defaults', role: null },
  );
  await approve(db, draft.versionId, approver);
  return activate(db, draft.versionId, approver);
}
