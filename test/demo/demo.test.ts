import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../lib/project-root';
import { launchChromium, screenshot, signedIn } from '../support/browser';
import { freePort } from '../support/net';

const BINARY = path.join(projectRoot, 'dist', 'cli', 'main.js');

/**
 * README command 1 as a newcomer runs it: the built binary's `demo` on embedded defaults (its own home and ports, no
 * DATABASE_URL), on a small shop so the suite stays short. It must go the whole path and leave the services up.
 */
describe('foresight demo (README command 1), end to end through the built binary', function () {
  this.timeout(900_000);
  let home: string;
  let env: NodeJS.ProcessEnv;
  let apiPort: number;
  let out = '';
  let status: number | null = null;

  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-demo-test-'));
    fs.rmdirSync(home); // stack up creates it, with its own mode
    apiPort = await freePort();
    env = {
      ...process.env,
      DATABASE_URL: '',
      FORESIGHT_HOME: home,
      FORESIGHT_PG_PORT: String(await freePort()),
      FORESIGHT_TEMPORAL_PORT: String(await freePort()),
      FORESIGHT_TEMPORAL_UI_PORT: String(await freePort()),
      FORESIGHT_API_PORT: String(apiPort),
    };
    status = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [BINARY, 'demo', '--customers', '2000'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('exit', resolve);
    });
    // Kept as a test artifact: what a newcomer would have seen.
    fs.mkdirSync(path.join(projectRoot, 'test-artifacts', 'demo'), { recursive: true });
    fs.writeFileSync(path.join(projectRoot, 'test-artifacts', 'demo', 'demo-output.txt'), out);
  });

  after(function () {
    this.timeout(120_000);
    if (!home) return;
    const state = path.join(home, 'postgres.json');
    const dataDir = fs.existsSync(state) ? (JSON.parse(fs.readFileSync(state, 'utf8')) as { dataDir?: string }).dataDir : undefined;
    spawnSync(process.execPath, [BINARY, 'stack', 'down'], { env, encoding: 'utf8', timeout: 100_000 });
    // This test's own cluster and home (the data directory may sit outside the home when run as root).
    if (dataDir) fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  const key = (role: string) => {
    const match = new RegExp(`^${role}\\s+(fs_\\S+)`, 'm').exec(out);
    expect(match, `a printed ${role} key`).to.not.equal(null);
    return match![1]!;
  };
  const get = (route: string, role: string) =>
    fetch(`http://127.0.0.1:${apiPort}${route}`, { headers: { authorization: `Bearer ${key(role)}` } });

  it('exits 0 after every step, ending with the summary and where to look', () => {
    expect(status, out.slice(-3000)).to.equal(0);
    for (let n = 1; n <= 14; n++) expect(out).to.include(`== ${n}. `);
    expect(out).to.match(/Done in [\d.]+ s\./);
    expect(out).to.include(`web console   http://127.0.0.1:${apiPort}/`);
  });

  it('approves low-impact actions automatically and queues the rest (no alert left holding them)', () => {
    const evaluation = /Evaluation \d+: ([\d,]+) actions approved automatically \(low impact\) and sent, ([\d,]+) waiting/.exec(out);
    expect(evaluation, out).to.not.equal(null);
    expect(Number(evaluation![1]!.replace(/,/g, ''))).to.be.above(0);
    expect(Number(evaluation![2]!.replace(/,/g, ''))).to.be.above(0);
  });

  it('measures the holdout over its simulated horizon: treated vs control with a 95% interval', () => {
    expect(out).to.match(/Assumption \(simulated, not measured\)/);
    expect(out).to.match(/Measured from those rows: retention [\d.]+% treated vs [\d.]+% control, difference -?[\d.]+% \(95% interval/);
  });

  it('leaves the API and console up, answering each role within its rights', async () => {
    expect((await fetch(`http://127.0.0.1:${apiPort}/healthz`)).status).to.equal(200);
    expect((await fetch(`http://127.0.0.1:${apiPort}/console/`)).status).to.equal(200);
    const customer = /\/customer\/profile\/(C\d+)/.exec(out)![1]!;
    const profile = await get(`/customer/profile/${customer}`, 'support');
    expect(profile.status).to.equal(200);
    expect(((await profile.json()) as { customerId: string }).customerId).to.equal(customer);
    const queue = await get('/approvals', 'owner');
    expect(queue.status).to.equal(200);
    const viewerApproves = await fetch(`http://127.0.0.1:${apiPort}/approvals/1/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key('viewer')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'not mine to decide' }),
    });
    expect(viewerApproves.status).to.equal(403);
    const impact = await get('/impact?policyVersion=1', 'finance');
    expect(impact.status).to.equal(200);
    const body = (await impact.json()) as { retention: { lower: number; upper: number } | null };
    expect(body.retention).to.not.equal(null);
    expect(body.retention!.lower).to.be.below(body.retention!.upper);
  });

  it('shows the demo shop on every console page an owner can open, without console errors', async function () {
    this.timeout(300_000);
    const browser = await launchChromium();
    try {
      const base = `http://127.0.0.1:${apiPort}`;
      const { page, errors } = await signedIn(browser, base, key('owner'));
      const links = page.getByRole('navigation', { name: 'Pages' }).getByRole('link');
      const hrefs = await Promise.all((await links.all()).map((link) => link.getAttribute('href')));
      const paths = hrefs.filter((h): h is string => h !== null && !h.endsWith('/customers'));
      const customer = /\/customer\/profile\/(C\d+)/.exec(out)![1]!;
      paths.push(`/console/customers/${customer}`);
      expect(paths.length, 'the owner’s pages').to.be.at.least(9);
      for (const pagePath of paths) {
        await page.goto(`${base}${pagePath}`);
        await page.waitForLoadState('networkidle');
        const main = page.locator('main');
        // Each page shows the demo's figures: at least one table with rows, and no error box.
        await main
          .locator('table tbody tr')
          .first()
          .waitFor({ state: 'attached', timeout: 30_000 })
          .catch(async () => expect.fail(`${pagePath} shows no table rows: ${(await main.innerText()).slice(0, 1500)}`));
        expect(await main.getByRole('alert').count(), `${pagePath}: ${await main.innerText()}`).to.equal(0);
        await screenshot(page, `demo${pagePath.replace(/^\/console/, '').replace(/\//g, '-')}`);
      }
      expect(errors).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });
});
