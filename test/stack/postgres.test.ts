import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Client } from 'pg';
import { config, loadConfig, type Config } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { newSecretKey } from '../../lib/secret-box';
import { databaseUrl, postgresDown, postgresStatus, postgresUp, secretKey } from '../../stack/postgres';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  return expect.fail('expected a rejection');
}

/**
 * The embedded server of a private stack (its own FORESIGHT_HOME under the system temp folder and its own port), so
 * that losing or refusing its data touches nobody else's.
 */
describe('embedded Postgres: stack up never deletes data, and commits are durable', () => {
  let home: string;
  let cfg: Config;
  let dataDir: string;
  const stateFile = () => path.join(cfg.home, 'postgres.json');

  const query = async <T extends Record<string, unknown>>(sql: string): Promise<T[]> => {
    const client = new Client({ connectionString: databaseUrl(cfg) });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const rowCount = async () => Number((await query<{ n: string }>('select count(*) as n from precious'))[0]!.n);

  before(async function () {
    this.timeout(180_000);
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-stack-test-'));
    fs.rmdirSync(home); // stack up creates it, with its own mode
    cfg = loadConfig({
      ...process.env,
      DATABASE_URL: '',
      FORESIGHT_HOME: home,
      FORESIGHT_PG_PORT: String(config().postgres.port + 1000),
    });
    dataDir = (await postgresUp(cfg)).dataDir!;
    await query('create table precious (id int primary key)');
    await query('insert into precious select generate_series(1, 1000)');
  });

  after(async function () {
    this.timeout(60_000);
    if (!cfg) return;
    await postgresDown(cfg);
    // This test's own cluster (its data directory may sit outside the home when the postgres user cannot reach it).
    if (dataDir) fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('creates the home 0700 and the state file 0600, written whole (no temporary file left)', () => {
    expect(fs.statSync(cfg.home).mode & 0o777).to.equal(0o700);
    expect(fs.statSync(stateFile()).mode & 0o777).to.equal(0o600);
    expect(fs.readdirSync(cfg.home).filter((f) => f.includes('.tmp'))).to.deep.equal([]);
  });

  it('keeps a generated secret key in the state file; FORESIGHT_SECRET_KEY overrides it and is required with DATABASE_URL', () => {
    const stored = (JSON.parse(fs.readFileSync(stateFile(), 'utf8')) as { secretKey: string }).secretKey;
    expect(Buffer.from(stored, 'base64')).to.have.length(32);
    expect(secretKey(cfg).toString('base64')).to.equal(stored);
    const own = newSecretKey();
    expect(secretKey({ ...cfg, secretKey: own }).toString('base64')).to.equal(own);
    const external = { ...cfg, postgres: { ...cfg.postgres, url: 'postgres://u@db.example/foresight' } };
    expect(() => secretKey(external)).to.throw(ConfigError, /FORESIGHT_SECRET_KEY is required with DATABASE_URL/);
    expect(() => loadConfig({ ...process.env, FORESIGHT_SECRET_KEY: 'c2hvcnQ=' })).to.throw(ConfigError, /FORESIGHT_SECRET_KEY/);
  });

  it('refuses to start when postgres.json is missing, keeps every row, and starts again once it is restored', async function () {
    this.timeout(120_000);
    const saved = fs.readFileSync(stateFile());
    await postgresDown(cfg);
    fs.rmSync(stateFile());

    const err = await rejection(postgresUp(cfg));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.contain(`a PostgreSQL cluster in ${dataDir} but no state file ${stateFile()}`);
    expect(err.message).to.contain('Nothing was changed');
    expect(err.message).to.contain(`restore ${stateFile()}`);
    expect(fs.existsSync(path.join(dataDir, 'PG_VERSION'))).to.equal(true);
    expect(fs.existsSync(stateFile()), 'no new state file').to.equal(false);

    fs.writeFileSync(stateFile(), saved, { mode: 0o600 });
    await postgresUp(cfg);
    expect(await rowCount()).to.equal(1000);
  });

  it('refuses a non-empty data directory without PG_VERSION instead of wiping it', async function () {
    this.timeout(120_000);
    await postgresDown(cfg);
    const version = path.join(dataDir, 'PG_VERSION');
    fs.renameSync(version, `${version}.aside`);
    try {
      const err = await rejection(postgresUp(cfg));
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.contain(`${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION)`);
      expect(fs.readdirSync(dataDir)).to.include('base');
    } finally {
      fs.renameSync(`${version}.aside`, version);
    }
    await postgresUp(cfg);
    expect(await rowCount()).to.equal(1000);
  });

  it('initialises a data directory that was moved away deliberately', async function () {
    this.timeout(120_000);
    await postgresDown(cfg);
    const savedState = fs.readFileSync(stateFile());
    const aside = `${dataDir}.old`;
    fs.renameSync(dataDir, aside);
    try {
      await postgresUp(cfg);
      expect((await postgresStatus(cfg)).running).to.equal(true);
      expect(await query("select to_regclass('precious') as t")).to.deep.equal([{ t: null }]);
    } finally {
      await postgresDown(cfg);
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.renameSync(aside, dataDir);
      fs.writeFileSync(stateFile(), savedState, { mode: 0o600 });
    }
    await postgresUp(cfg);
    expect(await rowCount()).to.equal(1000);
  });

  it('a new home at the path of a removed one (a fresh clone where an old clone was) gets its own cluster; the old one is kept', async function () {
    this.timeout(180_000);
    await postgresDown(cfg);
    const previousHome = `${home}.previous-clone`;
    fs.renameSync(home, previousHome);
    let newDataDir: string | undefined;
    try {
      newDataDir = (await postgresUp(cfg)).dataDir!;
      expect(newDataDir).to.not.equal(dataDir);
      expect(await query("select to_regclass('precious') as t")).to.deep.equal([{ t: null }]);
      // The removed clone's cluster is left where it was (when it lived outside its home).
      if (!dataDir.startsWith(home)) expect(fs.existsSync(path.join(dataDir, 'PG_VERSION'))).to.equal(true);
    } finally {
      await postgresDown(cfg);
      if (newDataDir && !newDataDir.startsWith(home)) fs.rmSync(path.dirname(newDataDir), { recursive: true, force: true });
      fs.rmSync(home, { recursive: true, force: true });
      fs.renameSync(previousHome, home);
    }
    await postgresUp(cfg);
    expect(await rowCount()).to.equal(1000);
  });

  it('commits durably: synchronous_commit and fsync are on', async function () {
    this.timeout(120_000);
    await postgresUp(cfg);
    const settings = await query<{ name: string; setting: string }>(
      "select name, setting from pg_settings where name in ('synchronous_commit', 'fsync') order by name",
    );
    expect(settings).to.deep.equal([
      { name: 'fsync', setting: 'on' },
      { name: 'synchronous_commit', setting: 'on' },
    ]);
  });
});
