/** The API's answers, as the console reads them (money is a decimal string, never a float). */

export interface Me {
  name: string;
  role: string;
  /** The routes this key's role may call, as "METHOD /path" (from the server's own guards). */
  may: string[];
}

export interface Overview {
  asOf: string | null;
  oldestAsOf: string | null;
  customersScored: number;
  revenueAtRisk: string;
  expectedRevenue: string;
  customersWithoutValue: number;
  riskBands: { band: string | null; customers: number; revenueAtRisk: string }[];
  churnProbability: { from: number; to: number; customers: number }[];
  segments: { segment: string | null; customers: number; expectedRevenue: string; revenueAtRisk: string }[];
  trend: RunTrend[];
  freshness: {
    runId: number;
    asOf: string;
    runAgeDays: number;
    sources: { source: string; latestEventAt: string | null; ageDays: number | null }[];
  } | null;
  openAlerts: number;
  actionsWaitingForApproval: number;
}

export interface RunTrend {
  runId: number;
  asOf: string;
  customersScored: number;
  revenueAtRisk: string;
  averageClv: string | null;
  previousCustomers: number;
  retainedCustomers: number;
  retentionRate: number | null;
  churnRate: number | null;
  netRevenueRetention: number | null;
  segments: { segment: string | null; customers: number }[];
}

export interface Profile {
  customerId: string;
  asOf: string;
  computedAt: string;
  churn: {
    probability: number | null;
    horizonDays: number;
    riskBand: string | null;
    drivers: { feature: string; contribution: number; sentence: string }[];
  };
  clv: {
    expectedNetRevenue: string | null;
    /** Present once the serving CLV model reports an interval. */
    interval?: { lower: string; upper: string; level: number | null } | null;
    horizonMonths: number;
    pAlive: number | null;
    expectedOrders: number | null;
    expectedSpendPerOrder: string | null;
    expectedNextOrderAt: string | null;
  };
  segment: {
    name: string | null;
    rfm: Record<string, unknown> | null;
    priceSensitive: boolean | null;
    clusterId: number | null;
    clusterDescription: string | null;
  };
  confidence: string;
  coverage: Record<string, unknown>;
  modelVersions: Record<string, unknown>;
  /** Present when the API answers with them (the profile route does). */
  openActions?: OpenAction[];
}

export interface Similar {
  customerId: string;
  asOf: string;
  k: number;
  similar: { customerId: string; similarity: number; segment: string | null; riskBand: string | null }[];
}

export interface Model {
  modelId: number;
  kind: string;
  version: number;
  status: 'candidate' | 'shadow' | 'champion' | 'retired';
  featureVersion: string | null;
  trainingFrom: string | null;
  trainingTo: string | null;
  metrics: Record<string, unknown>;
  createdBy: string;
  promotedBy: string | null;
  createdAt: string;
  promotedAt: string | null;
}

/** One bin of a churn model's reliability diagram (training backtest, stored in its metrics). */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/** One cut of a churn model's cumulative gains: the top `fraction` of customers by predicted risk. */
export interface GainsCut {
  fraction: number;
  rows: number;
  positives: number;
  positiveRate: number;
  lift: number;
  capture: number;
}

export interface MetricDelta {
  metric: string;
  champion: number;
  candidate: number;
  delta: number;
  better: 'higher' | 'lower' | 'closerToOne';
}

/** GET /models/:id/shadow-report: a candidate against its kind's champion on the same customers. */
export interface ShadowReport {
  candidate: { modelId: number; kind: string; version: number; trainingTo: string | null };
  champion: { modelId: number; version: number; trainingTo: string | null };
  asOf: string;
  customers: number;
  backtest: { cutoff: string; horizonDays: number; customers: number; metrics: MetricDelta[] } | null;
  backtestSkipped: string | null;
  shift: { psi: number; rankAgreement: number | null; labelChanges: number | null; topDecileOverlap: number | null };
}

/** An action of the customer's that is still open (proposed, waiting or approved, unexpired). */
export interface OpenAction {
  actionId: number;
  actionType: string;
  campaign: string;
  status: string;
  statusReason: string | null;
  incentiveAmount: string;
  decidedAt: string;
  expiresAt: string;
}

export interface Approval {
  actionId: number;
  customerId: string;
  actionType: string;
  segment: string | null;
  campaign: string;
  reason: string | null;
  incentiveAmount: string;
  decidedAt: string;
  expiresAt: string;
  ageHours: number;
  escalated: boolean;
  escalatedAt: string | null;
}

export interface DeliveryAttempt {
  series: number;
  attempt: number;
  attemptedAt: string;
  durationMs: number;
  statusCode: number | null;
  response?: string | null;
  responseExcerpt?: string | null;
  error: string | null;
  outcome: string;
}

export interface DecisionRecord {
  action: {
    actionId: number;
    customerId: string;
    actionType: string;
    segment: string | null;
    campaign: string;
    status: string;
    statusReason: string | null;
    incentiveAmount: string;
    expectedValue: string | null;
    parameters: Record<string, unknown> | null;
    decidedAt: string;
    expiresAt: string;
  };
  scores: {
    scoringRunId: number;
    asOf: string;
    modelVersions: Record<string, unknown> | null;
    churnProbability: number | null;
    riskBand: string | null;
    clvExpected: number | string | null;
    clvLower: number | string | null;
    pAlive: number | null;
    confidence: string | null;
  };
  trace: Record<string, unknown> & {
    decisionId: number;
    policy: { key: string; version: number; versionId: number; approvedBy: string | null };
    facts: Record<string, unknown>;
  };
  approval: {
    status: string;
    openedAt?: string;
    escalatedAt?: string | null;
    decidedBy?: string | null;
    decidedRole?: string | null;
    decidedAt?: string | null;
    reason: string | null;
    before?: Record<string, unknown> | null;
    after?: Record<string, unknown> | null;
  };
  delivery: {
    eventId: string | null;
    enqueuedAt: string | null;
    deliveries: {
      deliveryId: number;
      webhookId: string;
      subscriptionId: number;
      url: string;
      status: string;
      deliveredAt: string | null;
      attempts: DeliveryAttempt[];
    }[];
  };
}

export interface PolicyVersionRow {
  version_id: number;
  policy_key: string;
  version: number;
  status: 'draft' | 'approved' | 'active' | 'retired';
  author: string;
  approved_by: string | null;
  created_at: string;
  activated_at: string | null;
  retired_at: string | null;
}

export interface Policy {
  policy_key: string;
  name: string;
  created_by: string;
  created_at: string;
  versions: PolicyVersionRow[];
}

export interface PolicyVersion {
  versionId: number;
  policyKey: string;
  version: number;
  status: string;
  author: string;
  approvedBy: string | null;
  rules: unknown[];
  parameters: {
    actions?: Record<string, Record<string, unknown> & { thresholds?: Record<string, number> }>;
    segments?: Record<string, Record<string, Record<string, unknown>>>;
    [key: string]: unknown;
  };
}

interface Difference {
  count: number;
  sample: string[];
}

export interface Simulation {
  versionId: number;
  policyKey: string;
  status: string;
  summary: {
    customersEvaluated: number;
    customersReached: number;
    totalIncentive: string;
    actionsByType: Record<string, number>;
    actionsBySegment: Record<string, Record<string, number>>;
    byStatus: Record<string, number>;
  };
  comparedWith: {
    versionId: number;
    version: number;
    gaining: Difference;
    losing: Difference;
    changing: { count: number; sample: { customerId: string; from: string; to: string }[] };
  } | null;
}

export interface Suppression {
  suppression_id: number;
  scope: string;
  value: string;
  reason: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  lifted_at: string | null;
}

export interface Delivery {
  deliveryId: number;
  webhookId: string;
  eventId: string;
  eventType: string;
  subscriptionId: number;
  status: 'pending' | 'delivered' | 'dead_letter' | 'cancelled';
  series: number;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  deadLetteredAt: string | null;
  cancelledReason: string | null;
}

/** One thing a customer did (GET /customer/:id/timeline). */
export type TimelineEvent =
  | {
      kind: 'order';
      id: string;
      at: string;
      amount: string;
      currency: string;
      discountAmount: string;
      channel: string | null;
      status: string;
    }
  | { kind: 'return'; id: string; at: string; amount: string; currency: string | null; orderId: string | null }
  | { kind: 'session'; id: string; at: string; durationS: number; pageViews: number; device: string | null };

export interface TimelinePage {
  customerId: string;
  events: TimelineEvent[];
  nextCursor: string | null;
}

/** A customer's scores per published run (GET /customer/:id/scores), newest first. */
export interface ScoreHistory {
  customerId: string;
  runs: {
    runId: number;
    asOf: string;
    publishedAt: string;
    churnProbability: number | null;
    riskBand: string | null;
    clvExpectedNetRevenue: string | null;
    clvLower: string | null;
    clvUpper: string | null;
    segment: string | null;
    confidence: string;
  }[];
}
