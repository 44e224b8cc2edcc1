import { expect } from 'chai';
import type { Knex } from 'knex';
import { createApp } from '../../api/app';
import { startServer, type RunningServer } from '../../api/server';
import { createApiKey } from '../../access/api-keys';
import { mulberry32 } from '../../lib/random';
import { createSimilarCustomers } from '../../scoring/similar-customers';
import { freshDatabase, type TestDatabase } from '../support/db';
import { call, memoryLogger } from '../support/http';

/** The SQL that answered the route before the in-memory index: the reference the index must match exactly. */
async function similarBySql(db: Knex, customerId: string, k: number) {
  const profile = (await db('customer_profiles_latest').where({ customer_id: customerId }).first()) as { embedding: number[]; as_of: Date };
  const result = await db.raw<{ rows: { customer_id: string; similarity: number; segment: string | null; risk_band: string | null }[] }>(
    `with target as (select ?::float8[] as v),
          scored as (
            select s.customer_id, s.segment, s.risk_band,
                   (select sum(a * b) / nullif(sqrt(sum(a * a)) * sqrt(sum(b * b)), 0)
                      from unnest(s.embedding::float8[], t.v) as u(a, b)) as similarity
              from customer_risk_scores s, target t
             where s.as_of = ? and s.customer_id <> ? and cardinality(s.embedding) = cardinality(t.v))
     select customer_id, similarity, segment, risk_band
       from scored where similarity is not null
      order by similarity desc, customer_id
      limit ?`,
    [profile.embedding, profile.as_of.toISOString(), customerId, k],
  );
  return result.rows.map((r) => ({ customerId: r.customer_id, similarity: r.similarity, segment: r.segment, riskBand: r.risk_band }));
}

const CUSTOMERS = 3000;

/** A run of seeded random embeddings with what makes ranking tricky: duplicates (ties), zero and missing vectors, odd lengths. */
async function insertRun(db: Knex, asOf: string, seed: number): Promise<void> {
  const random = mulberry32(seed);
  const [run] = await db('scoring_runs').insert(
    { as_of: asOf, run_key: `similar-${asOf}-${seed}`, status: 'published', published_at: new Date() },
    ['run_id'],
  );
  const shared = Array.from({ length: 16 }, () => random() - 0.5);
  const rows = Array.from({ length: CUSTOMERS }, (_, i) => {
    const pick = random();
    const embedding =
      pick < 0.1
        ? shared.map((v) => v * (1 + Math.floor(random() * 3))) // same direction: equal similarities, ties broken by id
        : pick < 0.12
          ? new Array<number>(16).fill(0)
          : pick < 0.14
            ? null
            : pick < 0.15
              ? Array.from({ length: 8 }, () => random() - 0.5)
              : Array.from({ length: 16 }, () => (random() - 0.5) * 10 ** Math.floor(random() * 4 - 2));
    return {
      run_id: run!.run_id,
      as_of: asOf,
      // Ids whose text order differs from their numeric order, mixed case.
      customer_id: `${i % 2 ? 'c' : 'C'}-${(i * 7919) % CUSTOMERS}`,
      churn_horizon_days: 90,
      clv_horizon_months: 12,
      confidence: 'high',
      segment: ['Champions', 'At risk', null][i % 3],
      risk_band: ['low', 'high'][i % 2],
      embedding,
    };
  });
  for (let i = 0; i < rows.length; i += 1000) await db('customer_risk_scores').insert(rows.slice(i, i + 1000));
}

describe('Similar customers from the in-memory index', () => {
  let t: TestDatabase;
  let ids: string[];

  before(async () => {
    t = await freshDatabase('similar');
    ids = Array.from({ length: CUSTOMERS }, (_, i) => `${i % 2 ? 'c' : 'C'}-${(i * 7919) % CUSTOMERS}`);
    await t.db('customers').insert(ids.map((customer_id) => ({ customer_id })));
    await insertRun(t.db, '2026-05-31T00:00:00.000Z', 1);
  });

  after(async () => {
    await t?.db.destroy();
  });

  it('gives exactly the results of the SQL it replaces, ties and edge cases included', async () => {
    const similar = createSimilarCustomers(t.db);
    const random = mulberry32(7);
    let compared = 0;
    for (let n = 0; n < 60; n++) {
      const id = ids[Math.floor(random() * ids.length)]!;
      const k = [1, 10, 100][n % 3]!;
      const profile = await t.db('customer_profiles_latest').where({ customer_id: id }).first('embedding');
      if (!profile.embedding?.length) {
        await similar.find(id, k).then(
          () => expect.fail(`${id} has no embedding`),
          (err: Error) => expect(err.message).to.contain('no behaviour embedding'),
        );
        continue;
      }
      const { similar: found } = await similar.find(id, k);
      expect(found, `${id} k=${k}`).to.deep.equal(await similarBySql(t.db, id, k));
      compared++;
    }
    expect(compared).to.be.greaterThan(40);
  });

  it('switches to a newer run as soon as profiles point to it', async () => {
    const similar = createSimilarCustomers(t.db);
    const before = await similar.find(ids[5]!, 5);
    expect(before.asOf).to.equal('2026-05-31T00:00:00.000Z');
    await insertRun(t.db, '2026-06-30T00:00:00.000Z', 2);
    const after = await similar.find(ids[5]!, 5);
    expect(after.asOf).to.equal('2026-06-30T00:00:00.000Z');
    expect(after.similar).to.deep.equal(await similarBySql(t.db, ids[5]!, 5));
    expect(after.similar).not.to.deep.equal(before.similar);
  });

  it('limits each API key to its requests per second, with 429 and Retry-After, other keys unaffected', async () => {
    let server: RunningServer | undefined;
    try {
      server = await startServer(createApp({ db: t.db, logger: memoryLogger().logger, similarPerSecond: 3 }), {
        port: 0,
        host: '127.0.0.1',
      });
      const [a, b] = await Promise.all(['a', 'b'].map((name) => createApiKey(t.db, { name, role: 'marketing', createdBy: 'test' })));
      const { url } = server;
      const path = `/customer/profile/${ids[5]}/similar`;
      // Key b first (this also loads the index), then five at once from key a: all within one window.
      expect((await call(server.url, 'GET', path, { key: b!.key })).status).to.equal(200);
      const burst = await Promise.all(Array.from({ length: 5 }, () => call(url, 'GET', path, { key: a!.key })));
      expect(burst.map((r) => r.status).sort()).to.deep.equal([200, 200, 200, 429, 429]);
      const refused = burst.find((r) => r.status === 429)!;
      expect(refused.body.error.code).to.equal('rate_limited');
      expect(refused.headers.get('retry-after')).to.equal('1');
      expect((await call(server.url, 'GET', path, { key: b!.key })).status).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await call(server.url, 'GET', path, { key: a!.key })).status).to.equal(200);
    } finally {
      await server?.close();
    }
  });
});
