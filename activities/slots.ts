/**
 * At most `size` calls of `work` at once in this process; the rest wait their turn in order. Scoring partitions are
 * CPU-bound on the worker's one JavaScript thread and each holds up to two of its pool's connections: running more at
 * once only makes every one of them slower and can exhaust the pool.
 */
export function slots(size: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}
