import { dropTestDatabases } from '../support/db';

// Root hooks for mocha: test databases are created lazily by test/support/db and dropped here.
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await dropTestDatabases();
  },
};
