/**
 * `foresight generate`: writes the ingestion files of a synthetic shop, its ground truth and a record of
 * the dirt put into it (file formats in schema.ts, semantics in rows.ts and dirty.ts).
 *
 * Customers are generated one at a time, in index order, each from generators derived from
 * (seed, index), and their rows streamed straight out; memory stays flat however many customers there are.
 */
import { mkdir, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { CsvWriter } from './csv-writer';
import { soil, type DirtTally, type DirtyFile, type SoiledRows } from './dirty';
import { drawIdentities } from './identities';
import {
  DIRTY_KINDS,
  resolveGenerateOptions,
  type DirtyKind,
  type DirtyRates,
  type Drift,
  type GenerateOptionsInput,
  type SessionsMode,
  type SignalMode,
} from './options';
import { drawProfile } from './profile';
import { deriveRng, STREAM } from './random';
import { exportRows } from './rows';
import { OUTPUT_FILES, type OutputFile } from './schema';
import { buildShop, customerNumber, type Shop } from './shop';
import { simulateCustomer } from './simulate';

export {
  DEFAULT_GENERATE_OPTIONS,
  DIRTY_KINDS,
  DRIFT_DAYS,
  DRIFTS,
  type Drift,
  MAX_CUSTOMERS,
  resolveGenerateOptions,
  SESSIONS_MODES,
  SIGNAL_MODES,
  type DirtyKind,
  type DirtyRates,
  type GenerateOptions,
  type GenerateOptionsInput,
  type SessionsMode,
  type SignalMode,
} from './options';
export { CUSTOMER_TYPES, DEFAULT_TYPE_MIX, type CustomerType, type TypeMix } from './customer-types';
export { OUTPUT_FILES, type OutputFile } from './schema';

export interface GenerateSummary {
  readonly outDir: string;
  readonly customers: number;
  readonly seed: number;
  readonly asOf: string;
  readonly sessions: SessionsMode;
  readonly signal: SignalMode;
  readonly drift: Drift;
  /** The export instant (ISO-8601, UTC): ingested events lie before it, except injected future timestamps. */
  readonly exportInstant: string;
  /** Every file written; a transactions-only shop (sessions 'none') has no sessions file. */
  readonly files: Record<Exclude<OutputFile, 'sessions'>, WrittenFile> & { readonly sessions?: WrittenFile };
  /** Per kind: rows given that dirt, and rows that could have been (so injected / eligible ≈ the rate). */
  readonly dirty: Record<DirtyKind, { readonly injected: number; readonly eligible: number }>;
  readonly elapsedMs: number;
}

export interface WrittenFile {
  readonly path: string;
  readonly rows: number;
}

/** Called with the number of customers written so far and the total, for a progress bar. */
export type GenerateProgress = (customersDone: number, customersTotal: number) => void;

/** Customers between progress reports; also when buffered output waits for the disk. */
const PROGRESS_EVERY = 1000;

type Writers = Record<Exclude<OutputFile, 'sessions'>, CsvWriter> & { sessions?: CsvWriter };

function writeSoiled(file: DirtyFile, soiled: SoiledRows, writer: CsvWriter, writers: Writers): void {
  for (let i = 0; i < soiled.rows.length; i++) {
    const rowNumber = writer.write(soiled.rows[i]);
    const dirt = soiled.dirt[i];
    if (dirt) {
      writers.dirtyRows.write([OUTPUT_FILES[file].fileName, String(rowNumber), dirt.kind, dirt.column, dirt.originalValue]);
    }
  }
}

function writeCustomer(index: number, shop: Shop, rates: DirtyRates, writers: Writers, tally: DirtTally): void {
  const rng = deriveRng(shop.seed, index, STREAM.behaviour);
  const profile = drawProfile(index, shop, rng);
  const identities = drawIdentities(profile, shop.seed, rng);
  const life = simulateCustomer(profile, shop, rng);
  const rows = exportRows(profile, identities, life, shop);

  // Dirt has its own stream, so changing the rates never changes the underlying behaviour.
  const neighbour = index + 1 < shop.customers ? index + 1 : index - 1;
  const context = {
    rng: deriveRng(shop.seed, index, STREAM.dirt),
    rates,
    tally,
    exportSecond: shop.exportSecond,
    zone: profile.country.zone,
    customerId: profile.customerId,
    conflictingCustomerId: neighbour >= 0 ? `C${customerNumber(neighbour, shop)}` : null,
  };
  writers.customers.write(rows.customer);
  writeSoiled('identities', soil('identities', rows.identities, context), writers.identities, writers);
  writeSoiled('orders', soil('orders', rows.orders, context), writers.orders, writers);
  for (const item of rows.orderItems) writers.orderItems.write(item);
  writeSoiled('returns', soil('returns', rows.returns, context), writers.returns, writers);
  if (writers.sessions) writeSoiled('sessions', soil('sessions', rows.sessions, context), writers.sessions, writers);
  writers.groundTruth.write(rows.groundTruth);
}

export async function generateShop(input: GenerateOptionsInput, onProgress?: GenerateProgress): Promise<GenerateSummary> {
  const started = performance.now();
  const options = resolveGenerateOptions(input);
  const shop = buildShop(options);
  await mkdir(options.outDir, { recursive: true });
  const written = (Object.keys(OUTPUT_FILES) as OutputFile[]).filter((file) => file !== 'sessions' || options.sessions === 'all');
  // A transactions-only shop has no sessions file: one left from an earlier run in the folder must not pass for it.
  if (options.sessions === 'none') await rm(join(options.outDir, OUTPUT_FILES.sessions.fileName), { force: true });
  const writers = Object.fromEntries(
    written.map((file) => [file, new CsvWriter(join(options.outDir, OUTPUT_FILES[file].fileName), OUTPUT_FILES[file].columns)]),
  ) as Writers;
  const zeroPerKind = (): Record<DirtyKind, number> =>
    Object.fromEntries(DIRTY_KINDS.map((kind) => [kind, 0])) as Record<DirtyKind, number>;
  const tally: DirtTally = { injected: zeroPerKind(), eligible: zeroPerKind() };

  try {
    for (let index = 0; index < shop.customers; index++) {
      writeCustomer(index, shop, options.dirtyRates, writers, tally);
      const done = index + 1;
      if (done % PROGRESS_EVERY === 0 || done === shop.customers) {
        await Promise.all(Object.values(writers).map((writer) => writer.drain()));
        onProgress?.(done, shop.customers);
      }
    }
    await Promise.all(Object.values(writers).map((writer) => writer.close()));
    // The export was taken at its instant, not when this process wrote it: ingestion reads a file's time as when the
    // source exported it, which says how far the shop's data (and so its outcomes) are known.
    const exportedAt = new Date(shop.exportSecond * 1000);
    await Promise.all(Object.values(writers).map((writer) => utimes(writer.path, exportedAt, exportedAt)));
  } catch (error) {
    for (const writer of Object.values(writers)) writer.destroy();
    throw error;
  }

  return {
    outDir: options.outDir,
    customers: shop.customers,
    seed: shop.seed,
    asOf: options.asOf,
    sessions: options.sessions,
    signal: options.signal,
    drift: options.drift,
    exportInstant: new Date(shop.exportSecond * 1000).toISOString(),
    files: Object.fromEntries(
      Object.entries(writers).map(([file, writer]) => [file, { path: writer.path, rows: writer.rows }]),
    ) as GenerateSummary['files'],
    dirty: Object.fromEntries(
      DIRTY_KINDS.map((kind) => [kind, { injected: tally.injected[kind], eligible: tally.eligible[kind] }]),
    ) as GenerateSummary['dirty'],
    elapsedMs: Math.round(performance.now() - started),
  };
}
