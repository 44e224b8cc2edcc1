import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIRTY_KINDS, DRIFT_DAYS, generateShop, type GenerateSummary } from '../../datagen/generate';
import { DRIFT_PAGE_VIEWS_FACTOR } from '../../datagen/options';
import { ValidationError } from '../../lib/errors';

/** `--drift page_views`: only the page views of the last DRIFT_DAYS' sessions change; every other byte is the same. */
describe('generate --drift page_views', () => {
  let dir: string;
  let plain: GenerateSummary;
  let drifted: GenerateSummary;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-drift-'));
    // Without dirt, so every timestamp is the session's own.
    const clean = { customers: 400, seed: 17, dirtyRates: Object.fromEntries(DIRTY_KINDS.map((k) => [k, 0])) };
    plain = await generateShop({ ...clean, outDir: join(dir, 'plain') });
    drifted = await generateShop({ ...clean, outDir: join(dir, 'drifted'), drift: 'page_views' });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves every file but sessions.csv byte-identical', async () => {
    expect(drifted.drift).to.equal('page_views');
    for (const file of Object.keys(plain.files).filter((f) => f !== 'sessions') as (keyof GenerateSummary['files'])[]) {
      expect(await readFile(drifted.files[file]!.path, 'utf8'), file).to.equal(await readFile(plain.files[file]!.path, 'utf8'));
    }
  });

  it(`multiplies the page views of sessions from ${DRIFT_DAYS} days before the export by ${DRIFT_PAGE_VIEWS_FACTOR}, and only those`, async () => {
    const read = async (s: GenerateSummary) =>
      parse(await readFile(s.files.sessions!.path, 'utf8'), { columns: true }) as {
        session_id: string;
        started_at: string;
        page_views: string;
      }[];
    const [before, after] = [await read(plain), await read(drifted)];
    expect(after.map((r) => r.session_id)).to.deep.equal(before.map((r) => r.session_id));
    const from = new Date(drifted.exportInstant).getTime() - DRIFT_DAYS * 86_400_000;
    let shifted = 0;
    before.forEach((row, i) => {
      const factor = Date.parse(row.started_at) >= from ? DRIFT_PAGE_VIEWS_FACTOR : 1;
      if (factor > 1) shifted++;
      expect(after[i]!.page_views, row.session_id).to.equal(String(Number(row.page_views) * factor));
    });
    expect(shifted).to.be.above(100);
  });

  it('refuses an unknown drift, naming the parameter', async () => {
    const error = await generateShop({ customers: 1, seed: 1, outDir: join(dir, 'bad'), drift: 'spend' as never }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).field).to.equal('drift');
  });
});
