import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  defineQuery,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { featureRefreshWorkflow, type FeatureRefreshResult } from './feature-refresh';
import { policyEvaluationWorkflow, type PolicyEvaluationResult } from './policy-evaluation';
import { scheduledAsOf } from './scheduled-as-of';
import { scoringWorkflow, type ScoringInput, type ScoringResult } from './scoring';

const { policiesToEvaluate } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

export interface PipelineInput {
  /** The as-of (ISO); omitted when started by the schedule: the scheduled day at 00:00 UTC. */
  asOf?: string;
  scoring?: Omit<ScoringInput, 'asOf'>;
}

export type StageOutcome<T> = { status: 'done'; result: T } | { status: 'already-done'; workflowId: string };

export interface PolicyDecision {
  policyKey: string;
  outcome: StageOutcome<PolicyEvaluationResult>;
}

export interface DecisionsOutcome {
  /** The scoring run the policies were evaluated on; null when skipped. */
  scoringRunId: number | null;
  /** One per policy with an active version, in policy-key order. */
  policies: PolicyDecision[];
  /** Why nothing was evaluated (no active policy, or the day's scores are not the latest published), else null. */
  skipped: string | null;
}

export interface PipelineResult {
  asOf: string;
  refresh: StageOutcome<FeatureRefreshResult>;
  scoring: StageOutcome<ScoringResult>;
  /** Absent from pipelines recorded before the decisions stage existed. */
  decisions?: DecisionsOutcome;
}

export interface PipelineProgress {
  asOf: string | null;
  stage: 'refresh' | 'scoring' | 'decisions' | 'done';
  /** The child running the stage: query it (scoringWorkflow answers scoringProgress) for the stage's own progress. */
  childWorkflowId: string | null;
}

export const pipelineProgressQuery = defineQuery<PipelineProgress>('pipelineProgress');

/** The business key of a day's pipeline and its stages: one of each per as-of date, and per policy for decisions. */
export const pipelineIds = (asOf: string) => {
  const day = asOf.slice(0, 10);
  return {
    pipeline: `pipeline-${day}`,
    refresh: `refresh-${day}`,
    scoring: `scoring-${day}`,
    policy: (policyKey: string) => `policy-${policyKey}-${day}`,
  };
};

/**
 * The daily pipeline: featureRefresh (data-quality gate, then the snapshot), then scoring, then the decisions (each
 * policy with an active version evaluated on the scores just published), as child workflows with business-key ids
 * (`refresh-2026-07-01`, `scoring-2026-07-01`, `policy-retention-2026-07-01`). A stage whose id already completed is
 * not run again (WorkflowIdReusePolicy ALLOW_DUPLICATE_FAILED_ONLY: only a failed or terminated stage may run again),
 * so running the same day twice, by hand and by the schedule, scores and decides it once; the second run reports
 * `already-done`.
 */
export async function pipelineWorkflow(input: PipelineInput = {}): Promise<PipelineResult> {
  const asOf = input.asOf ?? scheduledAsOf();
  const ids = pipelineIds(asOf);
  const progress: PipelineProgress = { asOf, stage: 'refresh', childWorkflowId: ids.refresh };
  setHandler(pipelineProgressQuery, () => progress);

  async function stage<T>(workflowId: string, run: (options: ChildOptions) => Promise<T>): Promise<StageOutcome<T>> {
    progress.childWorkflowId = workflowId;
    try {
      return {
        status: 'done',
        result: await run({
          workflowId,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          // A cancelled or terminated pipeline takes its running stage with it.
          parentClosePolicy: ParentClosePolicy.TERMINATE,
        }),
      };
    } catch (err) {
      // @temporalio/workflow does not re-export the class; its name is part of the SDK's failure contract.
      if (err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError') return { status: 'already-done', workflowId };
      throw err;
    }
  }

  /**
   * Every active policy on the day's scores, one after another in key order: an evaluation reads the open actions and
   * contacts of every policy, so each sees what the ones before it decided (in parallel, two evaluations would not see
   * each other's uncommitted actions and could both act on a customer). Evaluations read the latest published scores:
   * when that is not this day's run (a newer as-of is published), evaluating would act on another day's scores again,
   * so the stage is skipped with the reason; the child is also given the run, and refuses if it changes meanwhile.
   */
  async function decide(scoring: StageOutcome<ScoringResult>): Promise<DecisionsOutcome> {
    progress.childWorkflowId = null;
    const { policyKeys, servedRun } = await policiesToEvaluate();
    const skip = (skipped: string): DecisionsOutcome => ({ scoringRunId: null, policies: [], skipped });
    if (policyKeys.length === 0) return skip('no policy has an active version');
    const day = asOf.slice(0, 10);
    if (!servedRun) return skip('no published scores');
    const ours =
      scoring.status === 'done'
        ? servedRun.runId === scoring.result.runId
        : new Date(servedRun.asOf).getTime() === new Date(asOf).getTime();
    if (!ours)
      return skip(
        `the scores as of ${day} are not the latest published (run ${servedRun.runId} as of ${servedRun.asOf.slice(0, 10)} is): ` +
          'its own pipeline decides on it',
      );
    const policies: PolicyDecision[] = [];
    for (const policyKey of policyKeys) {
      const outcome = await stage(ids.policy(policyKey), (o) =>
        executeChild(policyEvaluationWorkflow, { ...o, args: [{ policyKey, startedBy: ids.pipeline, scoringRunId: servedRun.runId }] }),
      );
      policies.push({ policyKey, outcome });
    }
    return { scoringRunId: servedRun.runId, policies, skipped: null };
  }

  const refresh = await stage(ids.refresh, (o) => executeChild(featureRefreshWorkflow, { ...o, args: [{ asOf }] }));
  progress.stage = 'scoring';
  const scoring = await stage(ids.scoring, (o) => executeChild(scoringWorkflow, { ...o, args: [{ ...input.scoring, asOf }] }));
  // Pipelines recorded before this stage completed after scoring: they replay without it.
  if (!patched('pipeline-decisions-stage')) {
    progress.stage = 'done';
    return { asOf, refresh, scoring };
  }
  progress.stage = 'decisions';
  const decisions = await decide(scoring);
  // Delivery needs no stage: released actions' webhook events are sent by the webhook dispatcher.
  progress.stage = 'done';
  return { asOf, refresh, scoring, decisions };
}

interface ChildOptions {
  workflowId: string;
  workflowIdReusePolicy: WorkflowIdReusePolicy;
  parentClosePolicy: ParentClosePolicy;
}
