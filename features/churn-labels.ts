/**
 * Churn labels: a customer churned at a cutoff when they made no purchase in the label window
 * (cutoff, cutoff + horizonDays × 24 h]. A purchase is a completed order, as in the feature catalog
 * (models/features/catalog.ts), so features and labels agree on what "buying" means.
 */
import type { Knex } from 'knex';
import { ValidationError } from '../lib/errors';
import { MS_PER_DAY } from '../lib/horizons';

export interface LabelWindow {
  /** Exclusive. */
  start: Date;
  /** Inclusive. */
  end: Date;
}

export function requireHorizonDays(horizonDays: number): void {
  if (!(Number.isFinite(horizonDays) && horizonDays > 0)) {
    throw new ValidationError(`horizonDays must be a positive number of days (got ${horizonDays})`, 'horizonDays');
  }
}

export function requireDate(value: Date, parameter: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new ValidationError(`${parameter} must be a valid date`, parameter);
}

export function addDays(instant: Date, days: number): Date {
  return new Date(instant.getTime() + days * MS_PER_DAY);
}

/**
 * The label window of a cutoff, refused unless it ends at or before `dataAsOf`, the instant up to which the
 * orders are known complete. A window reaching past it would label every customer who simply has not bought
 * *yet* as churned. In training, `dataAsOf` is the training as-of, so the same check keeps out outcomes that
 * a model trained then could not have known.
 */
export function observedLabelWindow(cutoff: Date, horizonDays: number, dataAsOf: Date, cutoffParameter = 'cutoff'): LabelWindow {
  requireDate(cutoff, cutoffParameter);
  requireHorizonDays(horizonDays);
  requireDate(dataAsOf, 'dataAsOf');
  const end = addDays(cutoff, horizonDays);
  if (end.getTime() > dataAsOf.getTime()) {
    throw new ValidationError(
      `${cutoffParameter} ${cutoff.toISOString()} + ${horizonDays} days ends at ${end.toISOString()}, after the data's as-of ` +
        `${dataAsOf.toISOString()}: the label window would not be fully observed`,
      cutoffParameter,
      { horizonDays, dataAsOf: dataAsOf.toISOString() },
    );
  }
  return { start: cutoff, end };
}

export interface LoadChurnLabelsOptions {
  /** The instant up to which orders are complete: the export instant, or the as-of a model is trained at. */
  dataAsOf: Date;
}

/**
 * 1 (churned) or 0 per customer, aligned with `customerIds`; computed in one query. Duplicate ids get the same
 * label; an id with no orders at all is churned, like any customer without a purchase in the window.
 */
export async function loadChurnLabels(
  db: Knex,
  cutoff: Date,
  horizonDays: number,
  customerIds: readonly string[],
  options: LoadChurnLabelsOptions,
): Promise<Uint8Array> {
  const window = observedLabelWindow(cutoff, horizonDays, options.dataAsOf);
  if (!Array.isArray(customerIds) || !customerIds.every((id) => typeof id === 'string')) {
    throw new ValidationError('customerIds must be an array of strings', 'customerIds');
  }
  const labels = new Uint8Array(customerIds.length);
  if (customerIds.length === 0) return labels;
  // Only the ids that did buy come back, as their positions in the input: one small result instead of a row each.
  const result = await db.raw<{ rows: { position: string }[] }>(
    `select wanted.position
       from unnest(:ids::text[]) with ordinality as wanted(customer_id, position)
      where exists (select 1
                      from orders o
                     where o.customer_id = wanted.customer_id
                       and o.status = 'completed'
                       and o.ordered_at > :start::timestamptz
                       and o.ordered_at <= :end::timestamptz)`,
    { ids: customerIds, start: window.start.toISOString(), end: window.end.toISOString() },
  );
  labels.fill(1);
  for (const row of result.rows) labels[Number(row.position) - 1] = 0;
  return labels;
}
