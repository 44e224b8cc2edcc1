import { expect } from 'chai';
import { scoreCustomers } from '../../scoring/score-customers';
import { ValidationError } from '../../lib/errors';
import { trainedShop } from '../support/scoring';
import type { IngestedShop } from '../support/shop';

/**
 * A partition is predicted a slice at a time while the COPY writes the slice before (scoring/score-partition.ts), so
 * Postgres and this process work at once. A slice must not change any customer's profile: every prediction depends on
 * the customer's own features and the run's models, never on who else is in the batch.
 */
describe('scoring a partition in prediction slices', function () {
  this.timeout(300_000);
  let shop: IngestedShop;
  before(async () => {
    shop = await trainedShop(905, 2000);
  });
  after(() => shop.db.destroy());

  it('writes the same profile in every column whether a partition is predicted at once or seven customers at a time', async () => {
    const whole = await scoreCustomers(shop.db, { asOf: shop.exportInstant, predictionSlice: 1_000_000 });
    // 7 does not divide the partitions' sizes: the last slice of each is short.
    const sliced = await scoreCustomers(shop.db, { asOf: shop.exportInstant, predictionSlice: 7, partitionSize: 500 });
    expect(sliced.customers).to.equal(whole.customers).and.to.be.above(1000);
    const columns = (await shop.db('customer_risk_scores').columnInfo()) as Record<string, { type: string }>;
    // json has no equality operator: documents are compared as jsonb (the same values, whatever the key order).
    const differs = Object.entries(columns)
      .filter(([name]) => !['run_id', 'computed_at'].includes(name))
      .map(([name, info]) =>
        info.type === 'json' ? `a.${name}::jsonb is distinct from b.${name}::jsonb` : `a.${name} is distinct from b.${name}`,
      );
    const compared = await shop.db.raw<{ rows: { rows: number; matched: number; differing: number }[] }>(
      `select count(*)::int as rows, count(b.customer_id)::int as matched,
              count(*) filter (where ${differs.join(' or ')})::int as differing
         from customer_risk_scores a left join customer_risk_scores b on b.run_id = :sliced and b.customer_id = a.customer_id
        where a.run_id = :whole`,
      { whole: whole.runId, sliced: sliced.runId },
    );
    expect(compared.rows[0]).to.deep.equal({ rows: whole.customers, matched: whole.customers, differing: 0 });
    expect(differs.length).to.be.above(20);
  });

  it('refuses a slice that is not a positive whole number, naming the parameter, before it begins a run', async () => {
    const runsBefore = await shop.db('scoring_runs').count({ n: '*' }).first();
    let error: unknown;
    try {
      await scoreCustomers(shop.db, { asOf: shop.exportInstant, predictionSlice: 0 });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).field).to.equal('predictionSlice');
    expect((error as Error).message).to.equal('predictionSlice must be a positive whole number of customers, got 0');
    expect(await shop.db('scoring_runs').count({ n: '*' }).first()).to.deep.equal(runsBefore);
  });
});
