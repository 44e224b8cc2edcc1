import { expect } from 'chai';
import { ConflictError } from '../../lib/errors';
import { publishScoringRun } from '../../scoring/scoring-runs';
import { freshDatabase, type TestDatabase } from '../support/db';

/**
 * customer_risk_scores has no row-level foreign keys (they cost half of each COPYed row's insert): publication is
 * where a run's rows are checked to belong to customers that exist.
 */
describe('publishing a scoring run checks its customers once, instead of a foreign key per row', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('publish_integrity');
  });
  after(() => t.db.destroy());

  async function runWithRowsFor(customerIds: string[]): Promise<number> {
    const [run] = await t
      .db('scoring_runs')
      .insert({
        as_of: new Date('2026-06-01T00:00:00Z'),
        run_key: `test-${customerIds.join('-')}`,
        model_versions: JSON.stringify({}),
        partitions: JSON.stringify([{ partition: 0, after: null, upTo: null }]),
        customers_expected: customerIds.length,
      })
      .returning<{ run_id: string }[]>('run_id');
    const runId = Number(run!.run_id);
    await t
      .db('scoring_run_partitions')
      .insert({ run_id: runId, partition: 0, customers: customerIds.length, scored_by: 'test', attempt: 1 });
    await t.db('customer_risk_scores').insert(
      customerIds.map((id) => ({
        run_id: runId,
        as_of: new Date('2026-06-01T00:00:00Z'),
        customer_id: id,
        churn_horizon_days: 90,
        clv_horizon_months: 12,
        confidence: 'low',
      })),
    );
    return runId;
  }

  it('refuses to publish a run with a row for a customer that does not exist, naming one, and leaves it unpublished', async () => {
    await t.db('customers').insert([{ customer_id: 'C1' }, { customer_id: 'C2' }]);
    const runId = await runWithRowsFor(['C1', 'ghost']);
    let error: unknown;
    try {
      await publishScoringRun(t.db, runId, Date.now());
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConflictError);
    expect((error as Error).message).to.equal(
      `Scoring run ${runId} has 1 row(s) for customers that do not exist (e.g. ghost): not published`,
    );
    expect(await t.db('scoring_runs').where({ run_id: runId }).first('status', 'published_at')).to.deep.equal({
      status: 'running',
      published_at: null,
    });
  });

  it('publishes a run whose rows are all of known customers', async () => {
    const runId = await runWithRowsFor(['C1', 'C2']);
    const summary = await publishScoringRun(t.db, runId, Date.now());
    expect(summary.customers).to.equal(2);
    expect((await t.db('scoring_runs').where({ run_id: runId }).first('status')).status).to.equal('published');
  });
});
