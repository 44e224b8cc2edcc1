import { ParentClosePolicy, WorkflowIdReusePolicy, defineQuery, executeChild, setHandler } from '@temporalio/workflow';
import { featureRefreshWorkflow, type FeatureRefreshResult } from './feature-refresh';
import { scheduledAsOf } from './scheduled-as-of';
import { scoringWorkflow, type ScoringInput, type ScoringResult } from './scoring';

export interface PipelineInput {
  /** The as-of (ISO); omitted when started by the schedule: the scheduled day at 00:00 UTC. */
  asOf?: string;
  scoring?: Omit<ScoringInput, 'asOf'>;
}

export type StageOutcome<T> = { status: 'done'; result: T } | { status: 'already-done'; workflowId: string };

export interface PipelineResult {
  asOf: string;
  refresh: StageOutcome<FeatureRefreshResult>;
  scoring: StageOutcome<ScoringResult>;
}

export interface PipelineProgress {
  asOf: string | null;
  stage: 'refresh' | 'scoring' | 'done';
  /** The child running the stage: query it (scoringWorkflow answers scoringProgress) for the stage's own progress. */
  childWorkflowId: string | null;
}

export const pipelineProgressQuery = defineQuery<PipelineProgress>('pipelineProgress');

/** The business key of a day's pipeline and its stages: one of each per as-of date. */
export const pipelineIds = (asOf: string) => {
  const day = asOf.slice(0, 10);
  return { pipeline: `pipeline-${day}`, refresh: `refresh-${day}`, scoring: `scoring-${day}` };
};

/**
 * The daily pipeline: featureRefresh (data-quality gate, then the snapshot), then scoring, as child workflows with
 * business-key ids (`refresh-2026-07-01`, `scoring-2026-07-01`). A stage whose id already completed is not run again
 * (WorkflowIdReusePolicy ALLOW_DUPLICATE_FAILED_ONLY: only a failed or terminated stage may run again), so running
 * the same day twice, by hand and by the schedule, scores it once; the second run reports `already-done`.
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

  const refresh = await stage(ids.refresh, (o) => executeChild(featureRefreshWorkflow, { ...o, args: [{ asOf }] }));
  progress.stage = 'scoring';
  const scoring = await stage(ids.scoring, (o) => executeChild(scoringWorkflow, { ...o, args: [{ ...input.scoring, asOf }] }));
  // Policy evaluation and delivery join here as further business-keyed children (`policy-<day>`, `delivery-<day>`),
  // each reading the run that scoring just published (scoring.result.runId).
  progress.stage = 'done';
  return { asOf, refresh, scoring };
}

interface ChildOptions {
  workflowId: string;
  workflowIdReusePolicy: WorkflowIdReusePolicy;
  parentClosePolicy: ParentClosePolicy;
}
