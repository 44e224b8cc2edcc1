import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { GateResult } from '../quality/gate';

const { qualityGate, featureSnapshot } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // The snapshot is one INSERT … SELECT inside Postgres: no heartbeat while it runs, so the timeout is its length.
  heartbeatTimeout: '30 minutes',
  retry: { maximumAttempts: 3 },
});

export interface FeatureRefreshInput {
  asOf: string;
}

export interface FeatureRefreshResult {
  gate: Pick<GateResult, 'gateRun' | 'status'> & { warnings: string[] };
  snapshot: { asOf: string; featureVersion: string; customers: number };
}

/** The failure type a refresh stopped by the data-quality gate fails with (not retried: the data must change first). */
export const DATA_QUALITY_GATE_FAILED = 'DataQualityGateFailed';

/**
 * The data-quality gate, then the feature snapshot. A check whose action is `fail` stops here, before any model sees
 * the data; `warn` checks let the refresh go on and are returned with its result. Start it with a business-key id
 * (`refresh-2026-07-01`): the gate's verdicts are recorded under that id.
 */
export async function featureRefreshWorkflow(input: FeatureRefreshInput): Promise<FeatureRefreshResult> {
  const gate = await qualityGate({ asOf: input.asOf, gateRun: workflowInfo().workflowId });
  const line = (c: GateResult['checks'][number]) => `${c.source} ${c.check}: ${c.detail}`;
  if (gate.status === 'fail') {
    throw ApplicationFailure.create({
      type: DATA_QUALITY_GATE_FAILED,
      nonRetryable: true,
      message: `Data-quality gate failed as of ${input.asOf}: ${gate.checks
        .filter((c) => c.status === 'fail')
        .map(line)
        .join('; ')}`,
      details: [gate],
    });
  }
  const snapshot = await featureSnapshot({ asOf: input.asOf });
  return {
    gate: { gateRun: gate.gateRun, status: gate.status, warnings: gate.checks.filter((c) => c.status === 'warn').map(line) },
    snapshot,
  };
}
