/** What GET /impact, GET /impact/versions and GET /finance answer (money as decimal strings). */
export interface Difference {
  estimate: number;
  lower: number;
  upper: number;
  conclusive: boolean;
  sampleSizePerGroup: number | null;
  smallSample: boolean;
}

export interface GroupOutcome {
  customers: number;
  retained: number;
  retentionRate: number | null;
  revenue: string;
  revenuePerCustomer: number | null;
}

export interface TargetedGroup {
  customers: number;
  revenueAtRisk: string;
}

export interface SubgroupEffect {
  treated: { customers: number; retained: number };
  control: { customers: number; retained: number };
  retention: Difference | null;
}

export interface PolicyImpact {
  versionId: number;
  policyKey: string;
  version: number;
  horizonDays: number;
  observedUntil: string;
  maturedBefore: string;
  treated: GroupOutcome;
  control: GroupOutcome;
  retention: Difference | null;
  revenuePerCustomer: Difference | null;
  incentiveCost: string;
  costPerIncrementalRetained: string | null;
  revenueAtRiskIdentifiedEarly: string;
  baseline: {
    rule: string;
    thresholdDays: number;
    population: number;
    policy: TargetedGroup;
    rulePicks: TargetedGroup;
    both: TargetedGroup;
    identifiedEarly: TargetedGroup;
    ruleOnly: TargetedGroup & { retained: number; retentionRate: number | null };
    effect: { alsoPickedByRule: SubgroupEffect; pickedByModelOnly: SubgroupEffect };
  };
  method: string;
}

export interface ImpactVersion {
  versionId: number;
  policyKey: string;
  version: number;
  status: string;
  actions: number;
  holdout: number;
  firstDecidedAt: string;
  lastDecidedAt: string;
}

export interface FinanceViews {
  asOf: string | null;
  clvHorizonMonths: number[];
  segments: {
    segment: string | null;
    customers: number;
    expectedRevenue: string;
    revenueAtRisk: string;
    expectedRevenueRetained: string;
    averageClv: string | null;
  }[];
  channels: {
    channel: string;
    customers: number;
    expectedRevenue: string;
    averageClv: string | null;
    acquisitionCost: string | null;
    clvLessAcquisitionCost: string | null;
    clvToAcquisitionCost: string | null;
  }[];
  channelSource: string;
  configuredChannels: string[];
}
