import { expect } from 'chai';
import type { Knex } from 'knex';
import { down, up } from '../../migrations/20261204000010_score_documents_as_json';
import { freshDatabase, type TestDatabase } from '../support/db';

/**
 * Migration 20261204000010 stores customer_risk_scores' documents as json (checked, not converted, on COPY): the values,
 * the defaults, the view that serves them and its read-only grants all survive the change, both ways.
 */
describe('score documents stored as json', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('score_documents_json');
  });
  after(() => t.db.destroy());

  const documentTypes = async () =>
    Object.fromEntries(
      (
        await t
          .db('information_schema.columns')
          .where({ table_name: 'customer_risk_scores' })
          .whereIn('column_name', ['churn_drivers', 'rfm', 'coverage', 'model_versions'])
          .select('column_name', 'data_type')
      ).map((c: { column_name: string; data_type: string }) => [c.column_name, c.data_type]),
    );
  /** Every privilege each role holds on the view (true only for SELECT when read-only). */
  const viewPrivileges = async () =>
    (
      await t.db.raw<{ rows: { role: string; privilege: string; held: boolean }[] }>(
        `select r as role, p as privilege, has_table_privilege(r, 'customer_profiles_latest', p) as held
           from unnest(array['foresight_api', 'foresight_worker']) r, unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p
          order by 1, 2`,
      )
    ).rows.filter((row) => row.held);
  const served = (db: Knex) =>
    db('customer_profiles_latest').where({ customer_id: 'C1' }).first('churn_drivers', 'rfm', 'coverage', 'model_versions');

  it('keeps every value, the defaults and the served view read-only, down to jsonb and up again', async () => {
    expect(await documentTypes()).to.deep.equal({ churn_drivers: 'json', rfm: 'json', coverage: 'json', model_versions: 'json' });
    const readOnly = [
      { role: 'foresight_api', privilege: 'SELECT', held: true },
      { role: 'foresight_worker', privilege: 'SELECT', held: true },
    ];
    expect(await viewPrivileges()).to.deep.equal(readOnly);

    const asOf = new Date('2026-06-01T00:00:00Z');
    await t.db('customers').insert({ customer_id: 'C1' });
    const [run] = await t
      .db('scoring_runs')
      .insert({ as_of: asOf, run_key: 'json-test', model_versions: '{}', partitions: '[]', customers_expected: 1 })
      .returning<{ run_id: string }[]>('run_id');
    const documents = {
      churn_drivers: [{ feature: 'recency_days', sentence: 'No order for 94 days', contribution: 0.52, value: 94 }],
      rfm: { r: 1, f: 2, m: 3 },
      coverage: { confidence: 'low', reasons: ['no session data'], clv: { model: 'blend' } },
      model_versions: { churn: { modelId: 1, version: 1 } },
    };
    await t.db('customer_risk_scores').insert({
      run_id: run!.run_id,
      as_of: asOf,
      customer_id: 'C1',
      churn_horizon_days: 90,
      clv_horizon_months: 12,
      confidence: 'low',
      ...Object.fromEntries(Object.entries(documents).map(([k, v]) => [k, JSON.stringify(v)])),
    });
    // A row written without documents gets the same empty ones as before.
    await t.db('customers').insert({ customer_id: 'C2' });
    await t
      .db('customer_risk_scores')
      .insert({ run_id: run!.run_id, as_of: asOf, customer_id: 'C2', churn_horizon_days: 90, clv_horizon_months: 12, confidence: 'low' });
    await t.db('scoring_runs').where({ run_id: run!.run_id }).update({ status: 'published', published_at: new Date() });
    const emptyOf = () =>
      t.db('customer_risk_scores').where({ customer_id: 'C2' }).first('churn_drivers', 'rfm', 'coverage', 'model_versions');
    const empty = { churn_drivers: [], rfm: null, coverage: {}, model_versions: {} };
    expect(await served(t.db)).to.deep.equal(documents);
    expect(await emptyOf()).to.deep.equal(empty);

    await t.db.transaction((trx) => down(trx));
    expect(await documentTypes()).to.deep.equal({ churn_drivers: 'jsonb', rfm: 'jsonb', coverage: 'jsonb', model_versions: 'jsonb' });
    expect(await served(t.db)).to.deep.equal(documents);
    expect(await viewPrivileges()).to.deep.equal(readOnly);

    await t.db.transaction((trx) => up(trx));
    expect(await documentTypes()).to.deep.equal({ churn_drivers: 'json', rfm: 'json', coverage: 'json', model_versions: 'json' });
    expect(await served(t.db)).to.deep.equal(documents);
    expect(await emptyOf()).to.deep.equal(empty);
    expect(await viewPrivileges()).to.deep.equal(readOnly);
  });
});
