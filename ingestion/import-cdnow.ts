import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Knex } from 'knex';
import { ValidationError } from '../lib/errors';
import { ingestFile, type IngestSummary } from './ingest-file';

/**
 * The CDNOW master purchase log (whitespace-separated `customer_id yyyymmdd number_of_cds dollar_value`, one line
 * per purchase) turned into Foresight's own customers and orders files, then ingested like any source, so the
 * same validation, idempotency and reject handling apply. Order ids are `CDNOW-<customer>-<line>`: stable across runs.
 */
export interface CdnowImportSummary {
  customers: IngestSummary;
  orders: IngestSummary;
}

export async function importCdnow(db: Knex, masterFile: string): Promise<CdnowImportSummary> {
  if (!fs.existsSync(masterFile)) throw new ValidationError(`CDNOW master file not found: ${masterFile}`, 'file');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-cdnow-'));
  try {
    const ordersCsv = path.join(work, 'cdnow-orders.csv');
    const customersCsv = path.join(work, 'cdnow-customers.csv');
    const orders = fs.createWriteStream(ordersCsv);
    orders.write('order_id,customer_id,ordered_at,amount,currency,discount_amount,channel,status,number_of_cds\n');
    const firstPurchase = new Map<string, string>();
    let line = 0;
    for await (const text of readline.createInterface({ input: fs.createReadStream(masterFile), crlfDelay: Infinity })) {
      line += 1;
      const fields = text.trim().split(/\s+/);
      if (line === 1 && fields[0] === 'customer_id') continue;
      if (fields.length !== 4) continue;
      const [id, ymd, cds, dollars] = fields as [string, string, string, string];
      const customer = `CDNOW-${id}`;
      const day = `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}`;
      if (!firstPurchase.has(customer)) firstPurchase.set(customer, day);
      // Dollar values are written as the file has them; validation rejects anything that is not an amount.
      orders.write(`CDNOW-${id}-${line},${customer},${day}T00:00:00Z,${dollars},USD,0,cdnow,completed,${cds}\n`);
    }
    await new Promise<void>((resolve, reject) => orders.end((err?: Error | null) => (err ? reject(err) : resolve())));
    fs.writeFileSync(
      customersCsv,
      'customer_id,signup_at,source\n' + [...firstPurchase].map(([c, day]) => `${c},${day}T00:00:00Z,cdnow`).join('\n') + '\n',
    );
    const customers = await ingestFile(db, { entity: 'customers', file: customersCsv });
    const orderSummary = await ingestFile(db, { entity: 'orders', file: ordersCsv });
    return { customers, orders: orderSummary };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
