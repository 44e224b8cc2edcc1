import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ingestFile } from '../../ingestion/ingest-file';
import { shopIngestionFiles } from '../../ingestion/shop-files';
import { generateShop, type Drift, type GenerateSummary, type SessionsMode, type SignalMode } from '../../datagen/generate';
import { freshDatabase, type TestDatabase } from './db';

export interface IngestedShop extends TestDatabase {
  shop: GenerateSummary;
  /** The export instant: the data's "now". */
  exportInstant: Date;
}

const shops = new Map<string, Promise<IngestedShop>>();

/** Cached shops are keyed by the generator's source too, so a changed generator never serves stale files. */
function generatorFingerprint(): string {
  const dir = path.resolve(__dirname, '..', '..', 'datagen');
  const hash = crypto.createHash('sha1');
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f))
    .sort())
    hash.update(fs.readFileSync(path.join(dir, file)));
  return hash.digest('hex').slice(0, 10);
}

/** The generator's session modes (datagen/options.ts); each omitted one takes the generator's default. */
export interface ShopModes {
  /** 'none': a transactions-only shop, no sessions file. */
  sessions?: SessionsMode;
  /** 'realistic': sessions foretell dropout only weakly and not at the 90-day horizon. */
  signal?: SignalMode;
  /** A drift injected into the last days before the export (datagen/options.ts DRIFTS). */
  drift?: Drift;
}

/**
 * A generated shop ingested into its own database, made once per test run and shared by the test files that ask
 * for the same size, seed and modes (read-only: tests must not write to it). Generated files are cached in the temp
 * folder.
 */
export function ingestedShop(customers = 50_000, seed = 42, modes: ShopModes = {}): Promise<IngestedShop> {
  // The default shop keeps its key (and cache folder); other modes add theirs.
  const key = [
    customers,
    seed,
    ...(modes.sessions === 'none' ? ['nosessions'] : []),
    ...(modes.signal === 'realistic' ? ['realistic'] : []),
    ...(modes.drift && modes.drift !== 'none' ? [`drift${modes.drift}`] : []),
  ].join('-');
  let shop = shops.get(key);
  if (!shop) {
    shop = (async () => {
      const outDir = path.join(os.tmpdir(), `foresight-test-shop-${key}-${generatorFingerprint()}`);
      const marker = path.join(outDir, 'summary.json');
      let summary: GenerateSummary;
      if (fs.existsSync(marker)) summary = JSON.parse(fs.readFileSync(marker, 'utf8')) as GenerateSummary;
      else {
        summary = await generateShop({ customers, seed, outDir, ...modes });
        fs.writeFileSync(marker, JSON.stringify(summary));
      }
      const t = await freshDatabase(`shop_${key}`);
      const notAfter = new Date(summary.exportInstant);
      for (const [entity, file] of shopIngestionFiles(summary)) await ingestFile(t.db, { entity, file, notAfter });
      return { ...t, shop: summary, exportInstant: notAfter };
    })();
    shops.set(key, shop);
  }
  return shop;
}

/** Ground truth of a generated shop, keyed by customer id (the answer key for model evaluation). */
export function readGroundTruth(shop: GenerateSummary): Map<string, Record<string, string>> {
  const [header, ...lines] = fs.readFileSync(shop.files.groundTruth.path, 'utf8').trimEnd().split('\n');
  const columns = header!.split(',');
  const out = new Map<string, Record<string, string>>();
  for (const line of lines) {
    const cells = line.split(',');
    const row = Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
    out.set(row.customer_id!, row);
  }
  return out;
}
