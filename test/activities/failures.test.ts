import { expect } from 'chai';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { toTemporalFailure, withFailureMapping } from '../../activities/failures';
import type { Activities } from '../../activities';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { startTemporal } from '../support/temporal';

describe('Activities: errors become Temporal failures by type', () => {
  const cases: [string, unknown, string, boolean][] = [
    ['bad input', new ValidationError('asOf is not a date', 'asOf'), 'ValidationError', true],
    ['a missing record', new NotFoundError('No champion churn model'), 'NotFoundError', true],
    ['a conflict', new ConflictError('Model 3 is retired'), 'ConflictError', true],
    [
      'a database that refuses connections',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      'DependencyError',
      false,
    ],
    ['a server shutting down (57P01)', Object.assign(new Error('terminating connection'), { code: '57P01' }), 'DependencyError', false],
    ['a dropped connection', new Error('Connection terminated unexpectedly'), 'DependencyError', false],
    ['a unique violation (23505)', Object.assign(new Error('duplicate key value'), { code: '23505' }), 'ConflictError', true],
    ['an unknown error', new TypeError('x is undefined'), 'ForesightError', false],
  ];
  for (const [what, err, type, nonRetryable] of cases) {
    it(`${what}: ${type}, ${nonRetryable ? 'not retried' : 'retried'}`, () => {
      const failure = toTemporalFailure(err);
      expect(failure).to.be.instanceOf(ApplicationFailure);
      expect(failure.type).to.equal(type);
      expect(failure.nonRetryable).to.equal(nonRetryable);
    });
  }

  describe('on the Temporal dev server (mocked activities, real retry policy)', function () {
    this.timeout(120_000);
    let env: TestWorkflowEnvironment;
    before(async () => {
      env = await startTemporal();
    });
    after(async () => {
      await env?.teardown();
    });

    async function attemptsUntilFailure(error: () => Error): Promise<{ attempts: number; cause: ApplicationFailure }> {
      let attempts = 0;
      const activities = withFailureMapping({
        trainModels: async () => {
          attempts++;
          throw error();
        },
        scoreCustomers: async () => {
          throw new Error('not reached');
        },
      }) as unknown as Activities;
      const taskQueue = `failures-${attempts}-${Date.now()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowsPath: require.resolve('../../workflows'),
        activities,
      });
      const failure = await worker.runUntil(
        env.client.workflow
          .execute('trainAndScoreWorkflow', { taskQueue, workflowId: taskQueue, args: [{ asOf: '2026-07-01', createdBy: 'test' }] })
          .then(
            () => expect.fail('the workflow should fail'),
            (err: unknown) => err,
          ),
      );
      expect(failure).to.be.instanceOf(WorkflowFailedError);
      const activityFailure = (failure as WorkflowFailedError).cause as ActivityFailure;
      return { attempts, cause: activityFailure.cause as ApplicationFailure };
    }

    it('a ValidationError fails the workflow after one attempt', async () => {
      const { attempts, cause } = await attemptsUntilFailure(() => new ValidationError('asOf is not a date', 'asOf'));
      expect(attempts).to.equal(1);
      expect(cause.type).to.equal('ValidationError');
    });

    it('an unavailable database is retried up to the policy (2 attempts)', async () => {
      const { attempts, cause } = await attemptsUntilFailure(() =>
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      );
      expect(attempts).to.equal(2);
      expect(cause.type).to.equal('DependencyError');
    });
  });
});
