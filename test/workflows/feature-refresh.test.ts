import { expect } from 'chai';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Activities } from '../../activities';
import { withFailureMapping } from '../../activities/failures';
import { ingestFile } from '../../ingestion/ingest-file';
import type { GateResult } from '../../quality/gate';
import { featureRefreshWorkflow } from '../../workflows';
import { DATA_QUALITY_GATE_FAILED } from '../../workflows/feature-refresh';
import { freshDatabase, type TestDatabase } from '../support/db';
import { startTemporal, testWorker } from '../support/temporal';

describe('featureRefreshWorkflow: the data-quality gate, then the snapshot', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTemporal();
  });
  after(async () => {
    await env?.teardown();
  });

  describe('branching (mocked activities)', () => {
    function gateWith(status: GateResult['status']): GateResult {
      const check = {
        source: 'orders',
        check: 'freshness' as const,
        value: 9,
        threshold: 3,
        action: status === 'warn' ? ('warn' as const) : ('fail' as const),
        status,
        detail: 'newest event 9 days old',
      };
      return { gateRun: 'x', asOf: '2026-07-01T00:00:00.000Z', status, checks: [check] };
    }
    async function refreshWith(status: GateResult['status']) {
      const snapshots: string[] = [];
      const activities = withFailureMapping({
        qualityGate: async (input: { gateRun: string }) => ({ ...gateWith(status), gateRun: input.gateRun }),
        featureSnapshot: async (input: { asOf: string }) => {
          snapshots.push(input.asOf);
          return { asOf: input.asOf, featureVersion: 'v', customers: 7 };
        },
      }) as unknown as Activities;
      const taskQueue = `refresh-${status}-${Date.now()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowsPath: require.resolve('../../workflows'),
        activities,
      });
      const outcome = await worker.runUntil(
        env.client.workflow
          .execute(featureRefreshWorkflow, { taskQueue, workflowId: `refresh-2026-07-01-${status}`, args: [{ asOf: '2026-07-01' }] })
          .then(
            (result) => ({ result, error: undefined }),
            (error: unknown) => ({ result: undefined, error }),
          ),
      );
      return { ...outcome, snapshots };
    }

    it('a failed check stops the refresh before the snapshot, not retried', async () => {
      const { error, snapshots } = await refreshWith('fail');
      expect(error).to.be.instanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).to.equal(DATA_QUALITY_GATE_FAILED);
      expect(cause.message).to.match(/orders freshness: newest event 9 days old/);
      expect(snapshots).to.deep.equal([]);
    });

    it('a warning lets the refresh go on and comes back with the result; the gate run is the workflow id', async () => {
      const { result, snapshots } = await refreshWith('warn');
      expect(snapshots).to.deep.equal(['2026-07-01']);
      expect(result!.gate).to.deep.equal({
        gateRun: 'refresh-2026-07-01-warn',
        status: 'warn',
        warnings: ['orders freshness: newest event 9 days old'],
      });
      expect(result!.snapshot.customers).to.equal(7);
    });
  });

  describe('end to end (real activities and Postgres)', () => {
    let t: TestDatabase;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-refresh-'));
    before(async () => {
      t = await freshDatabase('feature_refresh');
      const file = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));
      await ingestFile(t.db, { entity: 'customers', file: file('c.csv', 'customer_id\nC1\nC2\n'), notAfter: new Date('2026-08-01') });
      await ingestFile(t.db, {
        entity: 'orders',
        file: file('o.csv', 'order_id,customer_id,ordered_at,amount\nO1,C1,2026-06-01T00:00:00Z,10.00\nO2,C2,2026-06-30T00:00:00Z,20.00\n'),
        notAfter: new Date('2026-08-01'),
      });
    });
    after(async () => {
      await t?.db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('records the gate and computes the snapshot; a stale as-of stops it with the gate recorded', async () => {
      const worker = await testWorker(env, t.db, 'refresh-real');
      await worker.runUntil(async () => {
        const ok = await env.client.workflow.execute(featureRefreshWorkflow, {
          taskQueue: 'refresh-real',
          workflowId: 'refresh-2026-07-01',
          args: [{ asOf: '2026-07-01' }],
        });
        expect(ok.gate.status).to.equal('pass');
        expect(ok.snapshot.customers).to.equal(2);
        const stale = await env.client.workflow
          .execute(featureRefreshWorkflow, { taskQueue: 'refresh-real', workflowId: 'refresh-2026-09-01', args: [{ asOf: '2026-09-01' }] })
          .catch((err: unknown) => err);
        expect(stale).to.be.instanceOf(WorkflowFailedError);
      });
      const recorded = await t
        .db('data_quality_checks')
        .select('gate_run', 'status')
        .where({ check: 'freshness', source: 'orders' })
        .orderBy('gate_run');
      expect(recorded).to.deep.equal([
        { gate_run: 'refresh-2026-07-01', status: 'pass' },
        { gate_run: 'refresh-2026-09-01', status: 'fail' },
      ]);
      expect(await t.db('feature_snapshot_headers').where({ as_of: '2026-09-01' }).count({ n: '*' })).to.deep.equal([{ n: '0' }]);
    });
  });
});
