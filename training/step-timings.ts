import { performance } from 'node:perf_hooks';

/** One timed step of a training run: what it was, its wall time, and what it worked on. */
export interface TimedStep {
  step: string;
  ms: number;
  note?: string;
}

/**
 * The wall time of each step of a training run, in the order the steps finished: where training spends its time
 * (the benchmark prints it; trainModels returns it).
 */
export class StepTimings {
  readonly steps: TimedStep[] = [];

  /** Runs `work`, records its wall time under `step` (with `note`, or what `note` says of the result). */
  async time<T>(step: string, work: () => Promise<T> | T, note?: string | ((result: T) => string)): Promise<T> {
    const started = performance.now();
    const result = await work();
    this.steps.push({
      step,
      ms: performance.now() - started,
      ...(note === undefined ? {} : { note: typeof note === 'string' ? note : note(result) }),
    });
    return result;
  }

  /** The same, for synchronous work. */
  timeSync<T>(step: string, work: () => T, note?: string | ((result: T) => string)): T {
    const started = performance.now();
    const result = work();
    this.steps.push({
      step,
      ms: performance.now() - started,
      ...(note === undefined ? {} : { note: typeof note === 'string' ? note : note(result) }),
    });
    return result;
  }
}
