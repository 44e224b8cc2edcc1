import type { WorkflowHandle } from '@temporalio/client';

/**
 * Waits for a workflow's result while printing a progress line (to stderr) each time its running activity, attempt
 * or heartbeat progress changes: `retrain-2026-07-01: trainModelKind (attempt 1) 40%`.
 */
export async function followWorkflow<T>(handle: WorkflowHandle, result: Promise<T>, everyMs = 2000): Promise<T> {
  let last = '';
  let done = false;
  const watch = (async () => {
    while (!done) {
      const described = await handle.describe().catch(() => undefined);
      const pending = described?.raw.pendingActivities ?? [];
      const line = pending.length
        ? pending
            .map((a) => {
              const detail = a.heartbeatDetails?.payloads?.[0]?.data;
              const progress = detail
                ? (JSON.parse(Buffer.from(detail).toString('utf8')) as { done?: number; total?: number } | null)
                : null;
              const share = progress?.total ? ` ${Math.floor((100 * (progress.done ?? 0)) / progress.total)}%` : '';
              return `${a.activityType?.name ?? 'activity'} (attempt ${a.attempt ?? 1})${share}`;
            })
            .join(', ')
        : 'waiting';
      if (line !== last) process.stderr.write(`${handle.workflowId}: ${line}\n`);
      last = line;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  try {
    return await result;
  } finally {
    done = true;
    await watch;
  }
}
