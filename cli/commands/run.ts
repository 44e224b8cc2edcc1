import type { Command } from 'commander';
import { registerLifecycleRuns } from './lifecycle';
import { registerScoringRuns } from './run-scoring';

/** `foresight run <workflow>`: start a Temporal workflow and follow it to its result. */
export function registerRun(program: Command): void {
  const run = program.command('run').description('Start a workflow (with a worker in this process) and follow it to its result');
  registerLifecycleRuns(run);
  registerScoringRuns(run);
}
