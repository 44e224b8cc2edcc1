import os from 'node:os';
import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { withFailureMapping } from './failures';
import { heartbeating } from './heartbeat';
import { fileUnderImportDir } from './import-dir';
import { slots } from './slots';
import type { EntityName } from '../ingestion/entities';
import { ingestFile, type IngestSummary } from '../ingestion/ingest-file';
import { runQualityGate, type GateResult } from '../quality/gate';
import type { QualityRules } from '../quality/rules';
import { computeFeatureSnapshot } from '../features/snapshots';
import { trainModels, type ModelKind, type TrainModelsResult } from '../training/train-models';
import { evaluateCandidate } from '../scoring/shadow-evaluation';
import type { ShadowReport } from '../scoring/shadow-report';
import { carryOutDecision, closePromotion, openPromotion, type PromotionDecision } from '../approvals/model-promotion';
import { attemptDelivery, deadLetterDelivery, type AttemptInput, type AttemptResult } from '../delivery/attempt';
import { expireActions, openActionApprovals, type ActionDecision } from '../approvals/action-approval';
import { decideAndRelease, escalateAndNotify, evaluateAndRelease } from '../delivery/action-release';
import { runMonitoring } from '../monitoring/run-monitoring';
import { deliveriesToStart, fanOutEvents, markDeliveriesStarted, type DeliveryToStart } from '../delivery/outbox';
import { DEFAULT_PARTITIONS_PER_WORKER } from '../lib/config';
import { parseInstant } from '../lib/instant';
import type { WrittenPartition } from '../scoring/copy-profiles';
import { ScoringCache } from '../scoring/model-cache';
import { scoreCustomers } from '../scoring/score-customers';
import { scorePartition } from '../scoring/score-partition';
import {
  beginScoringRun,
  failScoringRun,
  publishScoringRun,
  servedScoringRun,
  type ScoreSummary,
  type ScoringRun,
} from '../scoring/scoring-runs';
import { activePolicyKeys } from '../policy/lifecycle';

/**
 * The activities a Foresight worker registers: thin adapters that call a step. Built around one database handle (no
 * global state); every activity is idempotent, so Temporal may retry it freely, and every error leaves as a classified
 * failure (activities/failures.ts) that says whether a retry can help.
 */
export function createActivities(
  db: Knex,
  options: { importDir: string; qualityRules: QualityRules; secretKey: Buffer; identity?: string; partitionsPerWorker?: number },
) {
  // Models and the CLV summary are loaded once per worker per run, not once per partition.
  const scoringCache = new ScoringCache();
  // The scoring task queue's Worker takes only this many partitions (cli/worker.ts); the slots also hold to it the
  // partitions that reach the main queue's Worker: those scheduled there by runs begun before the scoring queue existed.
  const partitionSlot = slots(options.partitionsPerWorker ?? DEFAULT_PARTITIONS_PER_WORKER);
  const identity = options.identity ?? `${os.hostname()}:${process.pid}`;
  return withFailureMapping({
    async ingestEntityFile(input: { entity: EntityName; file: string; notAfter?: string }): Promise<IngestSummary> {
      const file = fileUnderImportDir(options.importDir, input.file);
      return heartbeating((onProgress) =>
        ingestFile(db, { entity: input.entity, file, notAfter: input.notAfter ? new Date(input.notAfter) : undefined, onProgress }),
      );
    },
    /** Records its verdicts under `gateRun` (the refresh workflow's id), so a retry replaces rather than adds. */
    async qualityGate(input: { asOf: string; gateRun: string }): Promise<GateResult> {
      return runQualityGate(db, { asOf: new Date(input.asOf), gateRun: input.gateRun, rules: options.qualityRules });
    },
    async featureSnapshot(input: { asOf: string }): Promise<{ asOf: string; featureVersion: string; customers: number }> {
      const snapshot = await heartbeating(() => computeFeatureSnapshot(db, new Date(input.asOf)));
      return { asOf: snapshot.asOf.toISOString(), featureVersion: snapshot.featureVersion, customers: snapshot.customerCount };
    },
    /** Registers new model versions each time it runs; a retry after a crash adds versions, never changes old ones. */
    async trainModels(input: {
      asOf: string;
      churnHorizonDays?: number;
      clvHorizonMonths?: number;
      createdBy: string;
      promote?: boolean;
    }): Promise<TrainModelsResult> {
      return heartbeating(() => trainModels(db, { ...input, asOf: new Date(input.asOf) }));
    },
    async scoreCustomers(input: { asOf: string }): Promise<ScoreSummary> {
      return heartbeating((onProgress) => scoreCustomers(db, { asOf: parseInstant(input.asOf, 'asOf'), onProgress }));
    },
    /** Keyed by the workflow run: a retry, or a replayed workflow, gets the run it already began. */
    async beginScoringRun(input: { asOf: string; partitionSize?: number }): Promise<ScoringRun> {
      const { info } = Context.current();
      const runKey = info.workflowExecution ? `${info.workflowExecution.workflowId}/${info.workflowExecution.runId}` : info.activityId;
      return heartbeating(() =>
        beginScoringRun(db, { asOf: parseInstant(input.asOf, 'asOf'), runKey, partitionSize: input.partitionSize }),
      );
    },
    /** Replaces whatever an earlier attempt of the partition wrote (scoring/copy-profiles.ts). */
    async scorePartition(input: { runId: number; partition: number }): Promise<WrittenPartition & { scoredBy: string }> {
      // Waiting for a slot heartbeats too: the partition is held, not lost.
      const written = await heartbeating((onProgress) =>
        partitionSlot(() =>
          scorePartition(db, scoringCache, { ...input, scoredBy: identity, attempt: Context.current().info.attempt, onProgress }),
        ),
      );
      return { ...written, scoredBy: identity };
    },
    async publishScoringRun(input: { runId: number; startedAt: number }): Promise<ScoreSummary> {
      return publishScoringRun(db, input.runId, input.startedAt);
    },
    async failScoringRun(input: { runId: number; reason: string }): Promise<void> {
      await failScoringRun(db, input.runId, input.reason);
    },
    /** Monitoring after a scoring run: a retry replaces the run's report and opens no second alert of a kind. */
    async runMonitoring(input: { runId: number }): Promise<{ reportId: number; breaches: string[]; opened: number; resolved: number }> {
      const report = await heartbeating(() => runMonitoring(db, input.runId));
      return { reportId: report.reportId, breaches: report.breaches, opened: report.opened.length, resolved: report.resolved.length };
    },
    /**
     * Trains one kind as of a date for a training run (the retrain workflow's id). Idempotent: a retry returns the
     * model the run already registered for the kind. Never promotes, except the first model of a kind.
     */
    async trainModelKind(input: {
      asOf: string;
      kind: ModelKind;
      trainingRun: string;
      createdBy: string;
      churnHorizonDays?: number;
      clvHorizonMonths?: number;
    }): Promise<TrainModelsResult['models'][number]> {
      const { kind, ...rest } = input;
      const result = await heartbeating(() => trainModels(db, { ...rest, asOf: new Date(input.asOf), kinds: [kind] }));
      return result.models[0]!;
    },
    /** Scores the candidate beside the champion and stores the report under `evaluationRun` (a retry replaces it). */
    async evaluateCandidate(input: { candidateId: number; evaluationRun: string; asOf?: string }): Promise<{
      reportId: number;
      report: ShadowReport;
    }> {
      const stored = await heartbeating(() =>
        evaluateCandidate(db, { ...input, asOf: input.asOf === undefined ? undefined : new Date(input.asOf) }),
      );
      return { reportId: stored.reportId, report: stored.report };
    },
    async openPromotion(input: { workflowId: string; candidateId: number; deadlineAt: string; forcedReason: string | null }) {
      return openPromotion(db, { ...input, deadlineAt: new Date(input.deadlineAt) });
    },
    async carryOutDecision(
      input: { workflowId: string; candidateId: number } & PromotionDecision,
    ): Promise<{ status: 'approved' | 'rejected'; modelId: number; modelStatus: string }> {
      const { status, model } = await carryOutDecision(db, input);
      return { status, modelId: model.modelId, modelStatus: model.status };
    },
    async closePromotion(input: { workflowId: string; status: 'expired' | 'refused'; reason: string }): Promise<void> {
      await closePromotion(db, input);
    },
    /** Fans new outbox events out into deliveries, then lists the delivery series that have no workflow yet. */
    async dispatchWebhookEvents(input: { limit: number }): Promise<DeliveryToStart[]> {
      return heartbeating(async () => {
        await fanOutEvents(db, input.limit * 5);
        return deliveriesToStart(db, input.limit);
      });
    },
    async markWebhookDeliveriesStarted(input: { started: DeliveryToStart[] }): Promise<void> {
      await markDeliveriesStarted(db, input.started);
    },
    /** One signed POST, recorded once per (delivery, series, attempt); never throws for the receiver's answer. */
    async attemptWebhookDelivery(input: AttemptInput): Promise<AttemptResult> {
      return heartbeating(() => attemptDelivery(db, options.secretKey, input));
    },
    async openActionApprovals(input: { actionIds: number[]; workflowId: string; deadlineAt: string }) {
      return openActionApprovals(db, { ...input, deadlineAt: new Date(input.deadlineAt) });
    },
    /** A person's decision and, when approved, the action's webhook event, in one transaction (idempotent). */
    async carryOutActionDecision(input: { actionId: number; decision: ActionDecision }) {
      const { approval, status, release } = await decideAndRelease(db, input.actionId, input.decision);
      return {
        approval,
        status,
        release: release && { released: release.released, heldBy: release.released ? undefined : release.heldBy },
      };
    },
    /** Flags the batch's waiting approvals and notifies subscribers (`approval.escalated`), once per workflow run. */
    async escalateActionApprovals(input: {
      actionIds: number[];
      afterHours: number;
      workflowId: string;
      runId: string;
    }): Promise<number[]> {
      return escalateAndNotify(db, input);
    },
    async expireActionApprovals(input: { actionIds: number[]; reason: string }): Promise<number[]> {
      return expireActions(db, input);
    },
    /** The policies with an active version, and the scoring run an evaluation would read now (the daily pipeline). */
    async policiesToEvaluate(): Promise<{ policyKeys: string[]; servedRun: { runId: number; asOf: string } | null }> {
      return { policyKeys: await activePolicyKeys(db), servedRun: await servedScoringRun(db) };
    },
    /** With `scoringRunId`, refused (non-retryable) when the latest published scores are another run's. */
    async evaluatePolicyAndRelease(input: { policyKey: string; startedBy: string; scoringRunId?: number }) {
      const evaluation = await heartbeating(() =>
        evaluateAndRelease(db, input.policyKey, { name: input.startedBy, role: null }, undefined, { scoringRunId: input.scoringRunId }),
      );
      return { evaluationId: evaluation.evaluationId, released: evaluation.released, approvals: evaluation.approvals };
    },
    async deadLetterWebhookDelivery(input: { deliveryId: number; series: number }): Promise<void> {
      await deadLetterDelivery(db, input);
    },
  });
}

export type Activities = ReturnType<typeof createActivities>;
