import { expect } from 'chai';
import { config } from '../../lib/config';
import { createDb, migrateLatest } from '../../lib/db';
import { ensureDatabase, postgresUp } from '../../stack/postgres';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db';

/**
 * Worker and API processes start at once (several replicas, a deploy): each brings the stack up (database, login
 * roles) and migrates. None of them may fail because another does the same at the same moment.
 */
describe('processes starting at once: stack up and migrations side by side', function () {
  this.timeout(120_000);
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('concurrent_start', { migrate: false });
  });
  after(() => t.db.destroy());

  it('six stack ups at once all succeed (login roles and their passwords set one at a time)', async () => {
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => postgresUp(config())));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).to.deep.equal([]);
  });

  it('four processes creating the same database at once all succeed', async () => {
    const name = `${t.name}_created_at_once`;
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => ensureDatabase(urlFor('postgres'), name)));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).to.deep.equal([]);
    const admin = createDb(urlFor('postgres'));
    try {
      await admin.raw(`drop database "${name}"`);
    } finally {
      await admin.destroy();
    }
  });

  it('four migrations of one database at once: one applies every migration, the others wait and find nothing to do', async () => {
    const pools = Array.from({ length: 4 }, () => createDb(t.url));
    try {
      const results = await Promise.allSettled(pools.map((db) => migrateLatest(db)));
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).to.deep.equal([]);
      const applied = results.map((r) => (r as PromiseFulfilledResult<string[]>).value.length).sort((a, b) => b - a);
      const total = Number((await t.db('knex_migrations').count({ n: '*' }))[0]!.n);
      expect(total).to.be.greaterThan(10);
      expect(applied).to.deep.equal([total, 0, 0, 0]);
    } finally {
      await Promise.all(pools.map((db) => db.destroy()));
    }
  });
});
