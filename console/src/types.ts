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
