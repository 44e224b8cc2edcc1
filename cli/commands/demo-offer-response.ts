import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { DEFAULT_OFFER_RESPONSE, describeOfferResponse, simulateOfferResponse, writeResponseOrders } from '../../datagen/offer-response';
import type { IngestSummary } from '../../ingestion/ingest-file';
import { MS_PER_DAY } from '../../lib/horizons';
import { experimentCustomers, untouchedCustomers } from '../../monitoring/experiment-customers';
import { policyImpact } from '../../monitoring/impact';
import { fmtInt } from '../format';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * The demo's holdout run for a simulated horizon: the evaluation's treated and control customers respond to the offers
 * as datagen/offer-response.ts assumes (said so in the output), the simulated orders are written as an orders export
 * taken at the end of the horizon and ingested like any export (`ingest`, through the worker), and the impact is then
 * measured from those rows. Returns the lines to print.
 */
export async function demoOfferResponse(
  db: Knex,
  evaluationId: number,
  outDir: string,
  ingest: (files: { orders: string }, notAfter: string) => Promise<IngestSummary[]>,
): Promise<string[]> {
  const assumption = DEFAULT_OFFER_RESPONSE;
  const customers = await experimentCustomers(db, evaluationId);
  if (customers.length === 0) return ['No treated or held-out customers in this evaluation: nothing to simulate.'];
  const lastDecided = Math.max(...customers.map((c) => c.decidedAt.getTime()));
  const horizonEnd = new Date(lastDecided + assumption.horizonDays * MS_PER_DAY);
  // Everyone the run scored gets a simulated horizon, so the export is complete: customers outside the experiment
  // without orders would otherwise read as churned wherever outcomes are measured.
  const untouched = await untouchedCustomers(db, evaluationId);
  const orders = simulateOfferResponse([...customers, ...untouched], assumption);
  const currency =
    ((await db('orders').groupBy('currency').orderByRaw('count(*) desc').first('currency')) as { currency: string } | undefined)
      ?.currency ?? 'EUR';
  const file = path.join(outDir, `offer-response-evaluation-${evaluationId}.csv`);
  await writeResponseOrders(file, orders, currency);
  // The simulated export is taken at the end of the horizon: its orders are complete up to then (impact.ts reads that).
  fs.utimesSync(file, horizonEnd, horizonEnd);
  const [summary] = await ingest({ orders: file }, horizonEnd.toISOString());
  const treated = customers.filter((c) => c.arm === 'treated').length;
  const impact = await policyImpact(db, (await versionOf(db, evaluationId))!, { horizonDays: assumption.horizonDays });
  const lines = [
    describeOfferResponse(assumption),
    `${fmtInt(treated)} treated and ${fmtInt(customers.length - treated)} control customers (and ${fmtInt(untouched.length)} outside the experiment); ` +
      `${fmtInt(orders.length)} simulated orders ` +
      `until ${horizonEnd.toISOString().slice(0, 10)} written to ${file} and ingested (${fmtInt(summary?.accepted ?? 0)} rows accepted).`,
  ];
  const r = impact.retention;
  lines.push(
    r
      ? `Measured from those rows: retention ${pct(impact.treated.retentionRate!)} treated vs ${pct(impact.control.retentionRate!)} control, ` +
          `difference ${pct(r.estimate)} (95% interval ${pct(r.lower)} to ${pct(r.upper)}${r.conclusive ? '' : `; not conclusive, ~${fmtInt(r.sampleSizePerGroup ?? 0)} per group needed`}); ` +
          `revenue at risk identified before the rule "${impact.baseline.rule}" would have: ${impact.revenueAtRiskIdentifiedEarly}.`
      : 'Too few customers in a group to compare.',
  );
  return lines;
}

async function versionOf(db: Knex, evaluationId: number): Promise<number | undefined> {
  const row = (await db('policy_evaluations').where({ evaluation_id: evaluationId }).first('version_id')) as
    { version_id: string } | undefined;
  return row ? Number(row.version_id) : undefined;
}
