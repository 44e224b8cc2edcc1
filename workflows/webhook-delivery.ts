import { continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { attemptWebhookDelivery, deadLetterWebhookDelivery } = proxyActivities<Activities>({
  // An attempt is one HTTP request (10 s timeout) and two small writes; a database outage is retried here, with
  // the attempt recorded once under (delivery, series, attempt) so a retried activity does not send twice.
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 20 },
});

/** Seconds to wait after attempt n (n = 1, 2, …): 8 attempts over about 41 hours. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = [30, 120, 600, 3_600, 4 * 3_600, 12 * 3_600, 24 * 3_600];
/** Each wait is drawn uniformly within ±20 % of its schedule, so receivers recovering from an outage are not stampeded. */
export const DEFAULT_JITTER = 0.2;
export const DEFAULT_PAUSED_RECHECK_SECONDS = 60;

export interface WebhookDeliveryOptions {
  retryScheduleSeconds?: number[];
  jitter?: number;
  pausedRecheckSeconds?: number;
  timeoutMs?: number;
}

export interface WebhookDeliveryInput extends WebhookDeliveryOptions {
  deliveryId: number;
  webhookId: string;
  series: number;
  /** Set by continue-as-new: the attempt to make next. */
  nextAttempt?: number;
}

export interface WebhookDeliveryResult {
  outcome: 'delivered' | 'gone' | 'cancelled' | 'dead_letter';
  attempts: number;
}

/**
 * Delivers one webhook (one series of attempts; a manual replay is a new series, a new workflow): try; on a retryable
 * answer sleep the schedule's next wait, jittered with the workflow's deterministic random, and try again; after the
 * last try, dead-letter it. While the kill switch is on, an attempt answers `paused` without sending: the workflow
 * waits and asks again, spending no attempt. Started by the dispatcher with the id `webhook-<webhook-id>-<series>`.
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  const schedule = input.retryScheduleSeconds ?? DEFAULT_RETRY_SCHEDULE_SECONDS;
  const jitter = input.jitter ?? DEFAULT_JITTER;
  const lastAttempt = schedule.length + 1;
  let attempt = input.nextAttempt ?? 1;
  for (;;) {
    // A long pause adds a timer per recheck: start afresh before the history grows large.
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof webhookDeliveryWorkflow>({ ...input, nextAttempt: attempt });
    const result = await attemptWebhookDelivery({
      deliveryId: input.deliveryId,
      series: input.series,
      attempt,
      timeoutMs: input.timeoutMs,
    });
    if (result.outcome === 'paused') {
      await sleep((input.pausedRecheckSeconds ?? DEFAULT_PAUSED_RECHECK_SECONDS) * 1000);
      continue;
    }
    if (result.outcome !== 'retry') return { outcome: result.outcome, attempts: attempt };
    if (attempt >= lastAttempt) {
      await deadLetterWebhookDelivery({ deliveryId: input.deliveryId, series: input.series });
      return { outcome: 'dead_letter', attempts: attempt };
    }
    await sleep(jittered(schedule[attempt - 1]!, jitter));
    attempt++;
  }
}

/** Milliseconds: `seconds` ± `jitter` of it, uniformly. */
function jittered(seconds: number, jitter: number): number {
  // Math.random inside a workflow is Temporal's seeded generator, replayed identically (the lint rule guards the rest).
  // eslint-disable-next-line no-restricted-properties
  const factor = 1 + jitter * (2 * Math.random() - 1);
  return Math.max(1, Math.round(seconds * 1000 * factor));
}
