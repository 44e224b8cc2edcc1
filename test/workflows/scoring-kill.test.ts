import os from 'node:os';
import { expect } from 'chai';
import { scoreCustomers } from '../../scoring/score-customers';
import { scoringWorkflow } from '../../workflows';
import { runCounts, servedRuns, watchServedRuns } from '../support/scoring';
import { startWorkerProcess, workerProcessStage } from '../support/worker-process';
import { recordHistory } from '../support/histories';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('scoringWorkflow survives a worker killed mid-run (real worker process, Temporal, Postgres)', function () {
  this.timeout(600_000);
  const stage = workerProcessStage(902);

  it('SIGKILL mid-scoring, a new worker: exactly one row per customer, and readers saw only the previous run until publish', async () => {
    const { env, shop, workers } = stage;
    const previous = await scoreCustomers(shop.db, { asOf: new Date(shop.exportInstant.getTime() - 86_400_000) });
    const before = await servedRuns(shop.db);
    expect(before).to.deep.equal({ runIds: [previous.runId], rows: previous.customers });

    const taskQueue = `scoring-kill-${process.pid}`;
    workers.push(startWorkerProcess(shop, env, taskQueue));
    const watch = watchServedRuns(shop.db);
    const handle = await env.client.workflow.start(scoringWorkflow, {
      taskQueue,
      workflowId: 'scoring-kill',
      args: [{ asOf: shop.exportInstant.toISOString(), partitionSize: 100, maxParallel: 2 }],
    });
    // Kill once some partitions are written and others are still to come.
    const runId = await until('a few written partitions', async () => {
      const row = await shop.db('scoring_runs').whereLike('run_key', 'scoring-kill/%').first('run_id');
      if (!row) return undefined;
      const written = await shop.db('scoring_run_partitions').where({ run_id: row.run_id }).count({ n: '*' });
      return Number(written[0]!.n) >= 3 ? Number(row.run_id) : undefined;
    });
    workers[0]!.kill('SIGKILL');
    await new Promise((resolve) => workers[0]!.once('exit', resolve));
    const atKill = await shop.db('scoring_runs').where({ run_id: runId }).first('status', 'partitions');
    const writtenAtKill = await shop.db('scoring_run_partitions').where({ run_id: runId }).count({ n: '*' });
    expect(atKill.status).to.equal('running');
    expect(Number(writtenAtKill[0]!.n)).to.be.lessThan(atKill.partitions.length);
    expect(await servedRuns(shop.db)).to.deep.equal(before);

    workers.push(startWorkerProcess(shop, env, taskQueue));
    const summary = await handle.result();
    const seen = await watch.stop();
    await recordHistory(env, handle, 'scoring-worker-killed');

    expect(summary.runId).to.equal(runId);
    const snapshot = await shop.db('feature_snapshot_headers').where({ as_of: shop.exportInstant }).first('customer_count');
    expect(summary.customers).to.equal(snapshot.customer_count);
    expect(await runCounts(shop.db, runId)).to.deep.equal({ rows: summary.customers, customers: summary.customers });
    // Both worker processes wrote partitions (the pid is in scored_by).
    const scoredBy = await shop.db('scoring_run_partitions').where({ run_id: runId }).distinct('scored_by');
    expect(scoredBy.map((r) => r.scored_by as string).sort()).to.deep.equal(
      [`${os.hostname()}:${workers[0]!.pid}`, `${os.hostname()}:${workers[1]!.pid}`].sort(),
    );
    expect(seen).to.deep.equal([`${previous.runId}:${previous.customers}`, `${runId}:${summary.customers}`]);
    expect(await shop.db('monitoring_reports').where({ run_id: runId }).pluck('report_id')).to.deep.equal([
      String(summary.monitoring.reportId),
    ]);
  });
});
