#!/usr/bin/env node
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { Command, CommanderError } from 'commander';
import { config } from '../lib/config';
import { ForesightError } from '../lib/errors';
import { registerDatabase } from './commands/database';
import { registerDemo } from './commands/demo';
import { registerGenerate } from './commands/generate';
import { registerIngest } from './commands/ingest';
import { registerModelLifecycle } from './commands/lifecycle';
import { registerModels } from './commands/models';
import { registerQuality } from './commands/quality';
import { registerRun } from './commands/run';
import { registerReceiver } from './commands/receiver';
import { registerSchedule } from './commands/schedule';
import { registerServe } from './commands/serve';
import { registerStack } from './commands/stack';
import { registerWorker } from './commands/worker';

// Configuration is validated once, at start-up, before any command is built.
try {
  config();
} catch (err) {
  console.error(`foresight: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}

const program = new Command('foresight')
  .description('Foresight: predictive customer profiles (churn risk, lifetime value, segments) and the decisions they drive')
  .showHelpAfterError()
  .exitOverride();

registerDemo(program);
registerStack(program);
registerDatabase(program);
registerGenerate(program);
registerIngest(program);
registerModelLifecycle(registerModels(program));
registerRun(program);
registerQuality(program);
registerSchedule(program);
registerWorker(program);
registerServe(program);
registerReceiver(program);

/** One place turns errors into exit codes: known errors print their message, nothing else prints a stack unless asked. */
program.parseAsync(process.argv).then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (err instanceof ForesightError) {
      console.error(`foresight: ${err.message}`);
      process.exit(err.httpStatus >= 500 ? 3 : 2);
    }
    // A workflow that failed: its root cause (the activity's classified failure) says what went wrong.
    if (err instanceof WorkflowFailedError) {
      let cause: unknown = err.cause;
      while (cause instanceof TemporalFailure && cause.cause) cause = cause.cause;
      const failure = cause instanceof ApplicationFailure ? cause : undefined;
      console.error(`foresight: workflow failed: ${cause instanceof Error ? cause.message : err.message}`);
      process.exit(failure?.nonRetryable ? 2 : 3);
    }
    console.error(`foresight: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.FORESIGHT_DEBUG) console.error(err);
    process.exit(1);
  },
);
