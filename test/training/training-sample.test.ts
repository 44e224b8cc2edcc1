import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { addDays } from '../../features/churn-labels';
import { clvSummary, purchaseHistories } from '../../features/clv-summary';
import { openSampleCopies, sampleDb } from '../../features/sample-copies';
import { createDb } from '../../lib/db';
import { StepTimings } from '../../training/step-timings';
import { urlFor } from '../support/db';
import { chooseTrainingSample, type TrainingSample } from '../../features/training-sample';
import { DEFAULT_CHURN_HORIZON_DAYS } from '../../lib/horizons';
import { scoreCustomers } from '../../scoring/score-customers';
import { ChurnRowsCache } from '../../training/churn-training';
import { trainModels, type TrainModelsResult } from '../../training/train-models';
import { runCounts } from '../support/scoring';
import { ingestedShop, type IngestedShop } from '../support/shop';

/**
 * A shop above the (lowered) training-sample threshold trains on the customers whose md5(customer_id) starts below the
 * rate, computed here independently of the SQL, at every cutoff and in every run, and is still scored in full.
 */
const THRESHOLD = 1000;

/** The first 32 bits of md5(id): the sample is those below sample.hashBelow. */
const inSample = (id: string, sample: TrainingSample) =>
  parseInt(createHash('md5').update(id).digest('hex').slice(0, 8), 16) < sample.hashBelow;

async function purchasers(db: Knex, asOf: Date, statuses: string[]): Promise<string[]> {
  const rows = await db('orders')
    .distinct('customer_id')
    .whereIn('status', statuses)
    .where('ordered_at', '<=', asOf)
    .orderBy('customer_id');
  return rows.map((r) => r.customer_id as string);
}

describe('training/training sample of a large shop', function () {
  this.timeout(900_000);
  let shop: IngestedShop;
  let sample: TrainingSample;

  before(async () => {
    shop = await ingestedShop(3000, 77); // written to: no other test file uses this seed
    sample = (await chooseTrainingSample(shop.db, shop.exportInstant, THRESHOLD))!;
  });

  it('samples about the threshold of the purchasers, the same twice, and nobody at or below the threshold', async () => {
    const everyone = await purchasers(shop.db, shop.exportInstant, ['completed']);
    expect(everyone.length).to.be.above(2 * THRESHOLD);
    expect(sample.purchasers).to.equal(everyone.length);
    expect(sample.rate).to.equal(THRESHOLD / everyone.length);
    expect(sample.customers).to.equal(everyone.filter((id) => inSample(id, sample)).length);
    expect(sample.customers).to.be.within(0.85 * THRESHOLD, 1.15 * THRESHOLD);
    expect(await chooseTrainingSample(shop.db, shop.exportInstant, THRESHOLD)).to.deep.equal(sample);
    expect(await chooseTrainingSample(shop.db, shop.exportInstant, everyone.length)).to.equal(null);
  });

  it("reads each churn cutoff's rows for exactly the sampled purchasers, with the same features and labels as everyone's rows", async () => {
    const cutoff = addDays(shop.exportInstant, -2 * DEFAULT_CHURN_HORIZON_DAYS);
    const full = await new ChurnRowsCache(shop.db, DEFAULT_CHURN_HORIZON_DAYS, shop.exportInstant).rows(cutoff);
    const sampledRows = () => new ChurnRowsCache(shop.db, DEFAULT_CHURN_HORIZON_DAYS, shop.exportInstant, undefined, sample).rows(cutoff);
    const sampled = await sampledRows();
    const expected = (await purchasers(shop.db, cutoff, ['completed'])).filter((id) => inSample(id, sample));
    expect(full.nrow).to.be.above(sampled.nrow);
    expect(sampled.customerIds).to.deep.equal(expected);
    const fullRow = new Map(full.customerIds.map((id, i) => [id, i]));
    sampled.customerIds.forEach((id, i) => {
      const j = fullRow.get(id)!;
      expect([...sampled.X.subarray(i * sampled.ncol, (i + 1) * sampled.ncol)], id).to.deep.equal([
        ...full.X.subarray(j * full.ncol, (j + 1) * full.ncol),
      ]);
      expect(sampled.y[i], id).to.equal(full.y[j]);
    });
    expect((await sampledRows()).customerIds).to.deep.equal(sampled.customerIds);
  });

  it("computes CLV summaries for exactly the sampled customers, each customer's history and outcome as in the full summary", async () => {
    const asOf = addDays(shop.exportInstant, -365);
    const full = await clvSummary(shop.db, { asOf, holdoutDays: 365 });
    const sampled = await clvSummary(shop.db, { asOf, holdoutDays: 365, sample });
    expect(sampled.customerIds).to.deep.equal(full.customerIds.filter((id) => inSample(id, sample)));
    const fullRow = new Map(full.customerIds.map((id, i) => [id, i]));
    sampled.customerIds.forEach((id, i) => {
      const j = fullRow.get(id)!;
      const values = (s: typeof full, k: number) => [
        s.frequency[k],
        s.recency[k],
        s.age[k],
        s.purchasedAmount[k],
        s.holdout!.netRevenue[k],
      ];
      expect(values(sampled, i), id).to.deep.equal(values(full, j));
    });
  });

  it("reads the same rows from copies of the sample's rows, made by the worker role, and the full tables once they are closed", async () => {
    const worker = createDb(urlFor(shop.name, 'worker'));
    try {
      const cutoff = addDays(shop.exportInstant, -2 * DEFAULT_CHURN_HORIZON_DAYS);
      const asOf = addDays(shop.exportInstant, -365);
      const read = async () => {
        const rows = await new ChurnRowsCache(worker, DEFAULT_CHURN_HORIZON_DAYS, shop.exportInstant, undefined, sample).rows(cutoff);
        return {
          rows: { ids: rows.customerIds, X: [...rows.X], y: [...rows.y] },
          histories: await purchaseHistories(worker, cutoff, sample),
          summary: await clvSummary(worker, { asOf, holdoutDays: 365, sample }),
        };
      };
      const fromFullTables = await read();

      const copies = await openSampleCopies(worker, sample);
      const copied = sampleDb(worker, sample);
      expect(copied).to.not.equal(worker);
      // The copies hold exactly the sampled customers and their orders, and stand in for the tables on their connection.
      const customers = (await shop.db('customers').pluck('customer_id')) as string[];
      const sampledCustomers = customers.filter((id) => inSample(id, sample));
      const ordersOf = (await shop.db('orders').select('customer_id')) as { customer_id: string }[];
      const sampledOrders = ordersOf.filter((o) => inSample(o.customer_id, sample)).length;
      expect(copies.rows.customers).to.equal(sampledCustomers.length);
      expect(copies.rows.orders).to.equal(sampledOrders);
      expect(sampledOrders).to.be.within(1, ordersOf.length / 2);
      expect(Number((await copied('orders').count({ n: '*' }))[0]!.n)).to.equal(sampledOrders);
      expect(Number((await worker('orders').count({ n: '*' }))[0]!.n)).to.equal(ordersOf.length);
      const fromCopies = await read();
      expect(fromCopies).to.deep.equal(fromFullTables);

      await copies.close();
      expect(sampleDb(worker, sample)).to.equal(worker);
      expect(await read()).to.deep.equal(fromFullTables);
    } finally {
      await worker.destroy();
    }
  });

  describe('trainModels above the threshold, then scoring', () => {
    let trained: TrainModelsResult;
    const timings = new StepTimings();
    before(async () => {
      trained = await trainModels(shop.db, {
        timings,
        asOf: shop.exportInstant,
        createdBy: 'test',
        promote: true,
        kinds: ['churn', 'clv'],
        trainingSampleCustomers: THRESHOLD,
      });
    });

    it('records the sample in the churn and CLV models and fits churn on the sampled purchasers of each cutoff only', async () => {
      expect(timings.steps.find((s) => s.step === 'training sample: copies of its rows')?.note).to.match(/^customers \d+, orders \d+,/);
      const churn = trained.models.find((m) => m.kind === 'churn')!;
      const clv = trained.models.find((m) => m.kind === 'clv')!;
      expect(churn.metrics.trainingSample).to.deep.equal(sample);
      expect(clv.metrics.trainingSample).to.deep.equal(sample);
      const { fit } = churn.metrics.trainingCutoffs as { fit: string[] };
      let fitRows = 0;
      for (const cutoff of fit)
        fitRows += (await purchasers(shop.db, new Date(cutoff), ['completed'])).filter((id) => inSample(id, sample)).length;
      expect((churn.metrics.rows as { fit: number }).fit).to.equal(fitRows);
    });

    it('still scores every purchaser', async () => {
      await trainModels(shop.db, { asOf: shop.exportInstant, createdBy: 'test', promote: true, kinds: ['segments'] });
      const scored = await scoreCustomers(shop.db, { asOf: shop.exportInstant });
      const everyone = await purchasers(shop.db, shop.exportInstant, ['completed']);
      expect((await runCounts(shop.db, scored.runId)).customers).to.equal(everyone.length);
    });
  });

  it('trains from the full tables, and says so, where the database refuses temporary tables', async () => {
    await shop.db.raw(`revoke temporary on database ${shop.name} from public`);
    const worker = createDb(urlFor(shop.name, 'worker'));
    try {
      await openSampleCopies(worker, sample).then(
        () => expect.fail('copies made without the TEMPORARY privilege'),
        (err: Error) => expect(err.message).to.match(/permission denied/),
      );
      const steps = new StepTimings();
      const result = await trainModels(worker, {
        asOf: shop.exportInstant,
        createdBy: 'test',
        kinds: ['clv'],
        trainingSampleCustomers: THRESHOLD,
        timings: steps,
      });
      expect(steps.steps.find((s) => s.step === 'training sample: copies of its rows')?.note).to.equal(
        'not made: the full tables are read',
      );
      expect(result.models.map((m) => [m.kind, m.metrics.trainingSample])).to.deep.equal([['clv', sample]]);
    } finally {
      await worker.destroy();
      await shop.db.raw(`grant temporary on database ${shop.name} to public`);
    }
  });
});
