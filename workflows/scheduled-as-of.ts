import { workflowInfo } from '@temporalio/workflow';

/**
 * The as-of of a run started by a Temporal Schedule: the day of its scheduled time (not of a late start during
 * catch-up), at 00:00 UTC; outside a schedule, the day the workflow started.
 */
export function scheduledAsOf(): string {
  const info = workflowInfo();
  const scheduled = info.searchAttributes?.TemporalScheduledStartTime?.[0];
  const at = scheduled ? new Date(scheduled as string | Date) : info.startTime;
  return `${at.toISOString().slice(0, 10)}T00:00:00.000Z`;
}
