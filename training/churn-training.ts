/**
 * Churn training rows read from the database at past cutoffs, and the cutoffs themselves, fitted to the history
 * the shop has.
 *
 * Cutoffs lie on a grid c_k = anchor − k·step (k = 0, 1, …) that stops where a cutoff would have less than
 * minHistoryDays of purchases before it. A model that serves at T learns from the grid points c with c + H ≤ T
 * (their label windows have fully happened by T): the later half of them calibrate it, the ones before fit it (at most maxTrainingCutoffs in all). It needs at least MIN_TRAINING_CUTOFFS of them: one to fit on
 * and one to calibrate on; a shop with less history is refused with the dates it would need.
 */
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { ValidationError } from '../lib/errors';
import { DEFAULT_CHURN_HORIZON_DAYS } from '../lib/horizons';
import { FEATURE_VERSION } from '../features/catalog';
import { purchaseHistories } from '../features/clv-summary';
import { computeFeatureSnapshot, loadFeatureMatrix, sampledFeatureMatrix } from '../features/snapshots';
import type { TrainingSample } from '../features/training-sample';
import { addDays, loadChurnLabels, requireDate, requireHorizonDays } from '../features/churn-labels';
import type { LabelledChurnRows } from '../models/churn/candidates';
import { fitBetaGeo, noPurchaseProbabilities } from '../models/churn/no-purchase-probability';
import type { BetaGeoParams } from '../models/clv/bgnbd';
import { StepTimings } from './step-timings';

export const MIN_TRAINING_CUTOFFS = 2;

export interface ChurnCutoffOptions {
  /** Default DEFAULT_CHURN_HORIZON_DAYS (lib/horizons). */
  horizonDays?: number;
  /** Days between cutoffs; default 30. */
  stepDays?: number;
  /** Days of purchases a cutoff needs before it (after the shop's first purchase); default 30. */
  minHistoryDays?: number;
  /** Training cutoffs per model, the calibration cutoffs included; default 12, a year of monthly cutoffs whose later half calibrates: the seasons average out. */
  maxTrainingCutoffs?: number;
}

export type ResolvedCutoffOptions = Required<ChurnCutoffOptions>;

export function resolveCutoffOptions(options: ChurnCutoffOptions): ResolvedCutoffOptions {
  const resolved = { horizonDays: DEFAULT_CHURN_HORIZON_DAYS, stepDays: 30, minHistoryDays: 30, maxTrainingCutoffs: 12, ...options };
  requireHorizonDays(resolved.horizonDays);
  for (const key of ['stepDays', 'minHistoryDays'] as const) {
    if (!(Number.isFinite(resolved[key]) && resolved[key] > 0))
      throw new ValidationError(`${key} must be a positive number (got ${resolved[key]})`, key);
  }
  if (!(Number.isSafeInteger(resolved.maxTrainingCutoffs) && resolved.maxTrainingCutoffs >= MIN_TRAINING_CUTOFFS)) {
    throw new ValidationError(`maxTrainingCutoffs must be an integer of at least ${MIN_TRAINING_CUTOFFS}`, 'maxTrainingCutoffs');
  }
  return resolved;
}

/** The grid anchor, anchor − step, … back to the first cutoff with enough history; oldest first. */
export function cutoffGrid(anchor: Date, firstPurchaseAt: Date, options: ResolvedCutoffOptions): Date[] {
  requireDate(anchor, 'anchor');
  const earliest = addDays(firstPurchaseAt, options.minHistoryDays).getTime();
  const grid: Date[] = [];
  for (let cutoff = anchor; cutoff.getTime() >= earliest; cutoff = addDays(cutoff, -options.stepDays)) grid.unshift(cutoff);
  return grid;
}

export interface TrainingCutoffs {
  fit: Date[];
  calibration: Date[];
}

/** The cutoffs a model serving at `servesAt` learns from: fit cutoffs, then the later calibration cutoffs. */
export function trainingCutoffs(grid: readonly Date[], servesAt: Date, options: ResolvedCutoffOptions): TrainingCutoffs {
  const usable = grid.filter((c) => addDays(c, options.horizonDays).getTime() <= servesAt.getTime()).slice(-options.maxTrainingCutoffs);
  if (usable.length < MIN_TRAINING_CUTOFFS) {
    throw new ValidationError(
      `Not enough history to train a churn model serving at ${servesAt.toISOString()}: it needs ${MIN_TRAINING_CUTOFFS} cutoffs ` +
        `${options.stepDays} days apart, each with ${options.minHistoryDays} days of purchases before it and ${options.horizonDays} ` +
        `days of outcomes after it (by ${servesAt.toISOString()}); this shop has ${usable.length}`,
      'asOf',
      { horizonDays: options.horizonDays, stepDays: options.stepDays, minHistoryDays: options.minHistoryDays },
    );
  }
  // Calibration pools the later half of the cutoffs (three of six): a single period's churn rate carries its season.
  const calibrationCount = Math.max(1, Math.floor(usable.length / 2));
  return { fit: usable.slice(0, -calibrationCount), calibration: usable.slice(-calibrationCount) };
}

/** The first completed order: where cutoffs can begin. */
export async function firstPurchaseAt(db: Knex): Promise<Date> {
  const row = await db('orders').where({ status: 'completed' }).min({ at: 'ordered_at' }).first();
  if (!row?.at) throw new ValidationError('There are no completed orders: nothing to train a churn model on', 'orders');
  return new Date(row.at as Date);
}

export interface ChurnRowsTimings {
  featureSnapshotsMs: number;
  labelsMs: number;
  betaGeoMs: number;
  featureSnapshots: number;
}

/** A cutoff's rows: its feature snapshot, BG/NBD's P(no purchase in H) per customer, and churn labels. */
export interface CutoffRows extends LabelledChurnRows {
  asOf: Date;
  /** BG/NBD fitted on the purchase histories as of the cutoff (days); null with the reason when the fit failed. */
  betaGeo: BetaGeoParams | null;
  betaGeoError: string | null;
}

/**
 * The rows of each cutoff, computed once per run: snapshots are idempotent but not free, and a rolling-origin
 * backtest reads most cutoffs several times. Every label window must end by `dataAsOf`.
 */
export class ChurnRowsCache {
  readonly timings: ChurnRowsTimings = { featureSnapshotsMs: 0, labelsMs: 0, betaGeoMs: 0, featureSnapshots: 0 };
  readonly #rows = new Map<number, Promise<CutoffRows>>();

  constructor(
    private readonly db: Knex,
    readonly horizonDays: number,
    readonly dataAsOf: Date,
    readonly steps: StepTimings = new StepTimings(),
    /** At a large shop, every cutoff's rows are the same sampled customers' (features/training-sample.ts). */
    readonly sample: TrainingSample | null = null,
  ) {}

  rows(cutoff: Date): Promise<CutoffRows> {
    let rows = this.#rows.get(cutoff.getTime());
    if (!rows) {
      rows = this.load(cutoff);
      this.#rows.set(cutoff.getTime(), rows);
    }
    return rows;
  }

  /**
   * Starts reading the rows of these cutoffs in order, `concurrency` at a time, and returns at once: the database
   * computes one cutoff's snapshot while this process decodes another's and fits its BG/NBD, and keeps computing while
   * a candidate is fitted. A failure surfaces where the rows are awaited.
   */
  prefetch(cutoffs: readonly Date[], concurrency: number): void {
    const queue = [...cutoffs];
    const next = async (): Promise<void> => {
      for (let cutoff = queue.shift(); cutoff; cutoff = queue.shift()) await this.rows(cutoff).catch(() => undefined);
    };
    for (let i = 0; i < concurrency; i++) void next();
  }

  /** The rows of several cutoffs stacked, oldest first. */
  async stacked(cutoffs: readonly Date[]): Promise<LabelledChurnRows> {
    const parts: CutoffRows[] = [];
    for (const cutoff of cutoffs) parts.push(await this.rows(cutoff));
    return stackRows(parts);
  }

  private async load(asOf: Date): Promise<CutoffRows> {
    const day = asOf.toISOString().slice(0, 10);
    const started = performance.now();
    const matrix = await this.steps.time(
      `churn rows ${day}: feature snapshot`,
      async () => {
        if (this.sample) return sampledFeatureMatrix(this.db, asOf, this.sample);
        await computeFeatureSnapshot(this.db, asOf);
        return loadFeatureMatrix(this.db, asOf, FEATURE_VERSION);
      },
      (m) => `${m.nrow} customers`,
    );
    const loaded = performance.now();
    if (matrix.nrow === 0) throw new ValidationError(`No customer had bought by ${asOf.toISOString()}: nothing to label`, 'asOf');
    const y = await this.steps.time(`churn rows ${day}: labels`, () =>
      loadChurnLabels(this.db, asOf, this.horizonDays, matrix.customerIds, { dataAsOf: this.dataAsOf }),
    );
    const labelled = performance.now();

    const summary = await this.steps.time(`churn rows ${day}: purchase histories`, () => purchaseHistories(this.db, asOf, this.sample));
    const summarised = performance.now();
    const index = new Map(summary.customerIds.map((id, i) => [id, i]));
    // A purchaser the summary lacks has no repeat history: x = t_x = T = 0.
    const at = (values: ArrayLike<number>) => matrix.customerIds.map((id) => values[index.get(id) ?? -1] ?? 0);
    const histories = { frequency: at(summary.frequency), recency: at(summary.recency), age: at(summary.age) };
    let betaGeo: BetaGeoParams | null = null;
    let betaGeoError: string | null = null;
    let bgnbdNoPurchase: Float64Array = new Float64Array(matrix.nrow).fill(NaN);
    try {
      betaGeo = fitBetaGeo(summary);
      bgnbdNoPurchase = noPurchaseProbabilities(betaGeo, histories, this.horizonDays);
    } catch (error) {
      betaGeoError = (error as Error).message;
    }
    this.steps.steps.push({ step: `churn rows ${day}: BG/NBD fit`, ms: performance.now() - summarised });
    this.timings.featureSnapshotsMs += loaded - started;
    this.timings.labelsMs += labelled - loaded;
    this.timings.betaGeoMs += performance.now() - labelled;
    this.timings.featureSnapshots += 1;
    return { ...matrix, asOf, y, bgnbdNoPurchase, betaGeo, betaGeoError };
  }
}

function stackRows(parts: readonly CutoffRows[]): LabelledChurnRows {
  const { ncol, featureNames } = parts[0];
  const nrow = parts.reduce((rows, part) => rows + part.nrow, 0);
  const X = new Float32Array(nrow * ncol);
  const y = new Uint8Array(nrow);
  const bgnbdNoPurchase = new Float64Array(nrow);
  const customerIds: string[] = [];
  let row = 0;
  for (const part of parts) {
    X.set(part.X, row * ncol);
    y.set(part.y, row);
    bgnbdNoPurchase.set(part.bgnbdNoPurchase, row);
    // Not push(...ids): spreading some hundred thousand arguments overflows the call stack.
    for (const id of part.customerIds) customerIds.push(id);
    row += part.nrow;
  }
  return { X, nrow, ncol, y, featureNames, customerIds, bgnbdNoPurchase };
}
