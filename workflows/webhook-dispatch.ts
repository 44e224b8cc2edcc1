import { continueAsNew, ParentClosePolicy, proxyActivities, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { webhookDeliveryWorkflow, type WebhookDeliveryOptions } from './webhook-delivery';

const { dispatchWebhookEvents, markWebhookDeliveriesStarted } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface WebhookDispatchInput {
  /** How long to wait between passes when nothing is left to start (default 5 s). */
  pollSeconds?: number;
  /** Options of every delivery workflow it starts (short schedules in tests). */
  delivery?: WebhookDeliveryOptions;
}

/** The workflow id of the one dispatcher (`foresight worker` starts it if it is not running). */
export const WEBHOOK_DISPATCHER_ID = 'webhook-dispatcher';
const BATCH = 100;

/**
 * Drains the outbox for ever: each pass fans new events out into deliveries and starts a delivery workflow for each
 * delivery series not started yet (first tries and manual replays), abandoned so they outlive this loop's
 * continue-as-new. A workflow id per (webhook-id, series) makes a repeated start after a crash harmless.
 */
export async function webhookDispatchWorkflow(input: WebhookDispatchInput = {}): Promise<never> {
  for (;;) {
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 5_000)
      await continueAsNew<typeof webhookDispatchWorkflow>(input);
    const due = await dispatchWebhookEvents({ limit: BATCH });
    // All in one workflow task: started one after the other, each child would cost a round trip.
    const starts = await Promise.allSettled(
      due.map((delivery) =>
        startChild(webhookDeliveryWorkflow, {
          workflowId: `webhook-${delivery.webhookId}-${delivery.series}`,
          args: [{ ...input.delivery, ...delivery }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      ),
    );
    for (const start of starts)
      // Started before a crash or a continue-as-new, not yet marked: nothing to do (the class lives outside the
      // workflow package, hence the name).
      if (start.status === 'rejected' && (start.reason as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw start.reason;
    if (due.length > 0) await markWebhookDeliveriesStarted({ started: due });
    if (due.length < BATCH) await sleep((input.pollSeconds ?? 5) * 1000);
  }
}
