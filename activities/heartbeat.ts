import { Context } from '@temporalio/activity';

/**
 * Runs an activity's work while telling Temporal it is alive: a heartbeat every few seconds (the SDK throttles what
 * it sends), with the latest progress as details. A worker that crashes stops heartbeating, so Temporal retries the
 * activity after the workflow's heartbeatTimeout instead of its start-to-close timeout. Work that blocks the event
 * loop (a native XGBoost call) delays heartbeats: the workflows give those activities a longer heartbeatTimeout.
 */
export async function heartbeating<T>(work: (progress: (done: number, total: number) => void) => Promise<T>): Promise<T> {
  const context = Context.current();
  let latest: { done: number; total: number } | undefined;
  const timer = setInterval(() => context.heartbeat(latest), 5_000);
  try {
    context.heartbeat();
    return await work((done, total) => {
      latest = { done, total };
      context.heartbeat(latest);
    });
  } finally {
    clearInterval(timer);
  }
}
