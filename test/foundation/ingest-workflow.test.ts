import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { expect } from 'chai';
import { ingestShopWorkflow } from '../../workflows';
import { freshDatabase, type TestDatabase } from '../support/db';
import { startTemporal, testWorker } from '../support/temporal';

describe('ingestShopWorkflow (real Temporal dev server, real Postgres)', () => {
  let env: TestWorkflowEnvironment;
  let t: TestDatabase;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-wf-'));

  before(async function () {
    this.timeout(180_000);
    [env, t] = await Promise.all([startTemporal(), freshDatabase('ingest_wf')]);
  });
  after(async () => {
    await env?.teardown();
    await t?.db.destroy();
  });

  it('ingests a shop in dependency order and is idempotent when run again', async () => {
    const files = {
      customers: path.join(dir, 'customers.csv'),
      orders: path.join(dir, 'orders.csv'),
      order_items: path.join(dir, 'order_items.csv'),
      returns: path.join(dir, 'returns.csv'),
    };
    fs.writeFileSync(files.customers, 'customer_id,email\nC1,a@x.io\nC2,b@x.io\n');
    fs.writeFileSync(
      files.orders,
      'order_id,customer_id,ordered_at,amount\nO1,C1,2025-01-01T00:00:00Z,10.00\nO2,C2,2025-01-02T00:00:00Z,oops\n',
    );
    fs.writeFileSync(files.order_items, 'order_id,sku,quantity,unit_price\nO1,S1,1,10.00\n');
    fs.writeFileSync(files.returns, 'return_id,order_id,returned_at,amount\nR1,O1,2025-01-05T00:00:00Z,10.00\n');

    const worker = await testWorker(env, t.db, 'ingest-test');
    const run = () =>
      env.client.workflow.execute(ingestShopWorkflow, {
        args: [{ files, notAfter: '2026-01-01T00:00:00Z' }],
        taskQueue: 'ingest-test',
        workflowId: `ingest-${Math.random().toString(36).slice(2)}`,
      });
    // A worker runs once: both executions happen inside one runUntil.
    const [first, second] = await worker.runUntil(async () => [await run(), await run()]);
    expect(first.map((s) => [s.entity, s.accepted, s.rejected])).to.deep.equal([
      ['customers', 2, 0],
      ['orders', 1, 1],
      ['order_items', 1, 0],
      ['returns', 1, 0],
    ]);
    expect(second.every((s) => s.seenBefore)).to.equal(true);
    expect(Number((await t.db('orders').count({ n: '*' }))[0]!.n)).to.equal(1);
    expect(Number((await t.db('ingest_rejects').count({ n: '*' }))[0]!.n)).to.equal(1);
  });
});
