/**
 * A simulated response to delivered offers, for demonstrating impact measurement: an ASSUMPTION, not a measurement.
 * Each customer orders again within the horizon with probability 1 − P(churn) as scored (control and customers outside
 * the experiment: nothing changes); a treated customer's churn probability is lowered by `relativeChurnReduction` (the assumed
 * uplift), so the group's retention rises by about relativeChurnReduction × its mean P(churn). A returning customer
 * places one order at a uniform instant of the horizon, of about their expected spend per order. Draws are seeded per
 * customer, so the same inputs give the same orders however they are ordered or chunked.
 */
import { CsvWriter } from './csv-writer';
import { deriveRng, mix32, STREAM } from './random';
import { OUTPUT_FILES } from './schema';
import { ValidationError } from '../lib/errors';

const DAY_MS = 86_400_000;

export interface ExperimentCustomer {
  customerId: string;
  /** Treated: the offer went out. Control: held out, nothing sent. Untouched: outside the experiment, nothing sent. */
  arm: 'treated' | 'control' | 'untouched';
  decidedAt: Date;
  churnProbability: number;
  /** What a returning customer spends, in cents (the profile's expected spend per order). */
  spendPerOrderCents: number;
}

export interface OfferResponseAssumption {
  horizonDays: number;
  /** Share of a treated customer's churn probability the offer removes (0.3: P(churn) 0.6 becomes 0.42). */
  relativeChurnReduction: number;
  seed: number;
}

export const DEFAULT_OFFER_RESPONSE: OfferResponseAssumption = { horizonDays: 90, relativeChurnReduction: 0.3, seed: 42 };

export interface ResponseOrder {
  orderId: string;
  customerId: string;
  orderedAt: Date;
  amountCents: number;
}

/** The assumption in words, for the demo's output and README. */
export function describeOfferResponse(a: OfferResponseAssumption): string {
  return (
    `Assumption (simulated, not measured): over ${a.horizonDays} days after the decision, a held-out customer orders again ` +
    `with probability 1 − P(churn) as scored, and so does every customer outside the experiment; an offer lowers a treated ` +
    `customer's P(churn) by ${Math.round(100 * a.relativeChurnReduction)}% (relative). A returning customer places one order ` +
    `of about their expected spend per order. Calibration measured over this horizon therefore reflects the assumption, not the model.`
  );
}

/** A 32-bit index from the customer id (FNV-1a), so each customer has its own random stream. */
function customerIndex(customerId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < customerId.length; i++) hash = Math.imul(hash ^ customerId.charCodeAt(i), 0x01000193);
  return mix32(hash >>> 0);
}

function validate(customers: readonly ExperimentCustomer[], a: OfferResponseAssumption): void {
  if (!Number.isInteger(a.horizonDays) || a.horizonDays < 1)
    throw new ValidationError(`horizonDays must be a whole number ≥ 1, got ${a.horizonDays}`, 'horizonDays');
  if (!(a.relativeChurnReduction >= 0 && a.relativeChurnReduction <= 1))
    throw new ValidationError(`relativeChurnReduction must be within [0, 1], got ${a.relativeChurnReduction}`, 'relativeChurnReduction');
  for (const c of customers) {
    if (!(c.churnProbability >= 0 && c.churnProbability <= 1))
      throw new ValidationError(
        `customer ${c.customerId}: churnProbability must be within [0, 1], got ${c.churnProbability}`,
        'churnProbability',
      );
    if (!(Number.isInteger(c.spendPerOrderCents) && c.spendPerOrderCents > 0))
      throw new ValidationError(
        `customer ${c.customerId}: spendPerOrderCents must be a whole number > 0, got ${c.spendPerOrderCents}`,
        'spendPerOrderCents',
      );
  }
}

/** The orders the customers place over the horizon under the assumption. */
export function simulateOfferResponse(customers: readonly ExperimentCustomer[], a: OfferResponseAssumption): ResponseOrder[] {
  validate(customers, a);
  const orders: ResponseOrder[] = [];
  for (const c of customers) {
    const rng = deriveRng(a.seed, customerIndex(c.customerId), STREAM.offerResponse);
    const churn = c.arm === 'treated' ? c.churnProbability * (1 - a.relativeChurnReduction) : c.churnProbability;
    const returns = rng.uniform() >= churn;
    const at = rng.uniform();
    const spend = rng.between(0.8, 1.2);
    if (!returns) continue;
    // Strictly after the decision and at most the horizon after it: the window impact counts.
    const offsetMs = Math.max(1000, Math.floor(at * a.horizonDays * DAY_MS));
    orders.push({
      orderId: `SIM-${c.customerId}-${c.decidedAt.toISOString().slice(0, 10)}`,
      customerId: c.customerId,
      orderedAt: new Date(c.decidedAt.getTime() + offsetMs),
      amountCents: Math.max(1, Math.round(c.spendPerOrderCents * spend)),
    });
  }
  return orders;
}

/** Writes the orders in the shop's orders.csv layout (completed, no discount, web), ready for ingestion. */
export async function writeResponseOrders(file: string, orders: readonly ResponseOrder[], currency: string): Promise<void> {
  const writer = new CsvWriter(file, OUTPUT_FILES.orders.columns);
  const columns = OUTPUT_FILES.orders.columns;
  for (const o of orders) {
    const values: Record<(typeof columns)[number], string> = {
      order_id: o.orderId,
      customer_id: o.customerId,
      ordered_at: o.orderedAt.toISOString(),
      amount: (o.amountCents / 100).toFixed(2),
      currency,
      discount_amount: '0.00',
      channel: 'web',
      status: 'completed',
    };
    writer.write(columns.map((c) => values[c]));
  }
  await writer.close();
}
