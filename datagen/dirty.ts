/**
 * Deliberate dirt in the ingestion files, at configured rates, recorded row by row so tests and
 * evaluations know exactly what was done. Each eligible row draws once and gets at most one kind:
 *
 *   malformed_amount   orders.amount, returns.amount become e.g. '12,3O', '', 'abc', 'N/A'
 *   missing_timestamp  orders.ordered_at, returns.returned_at, sessions.started_at become ''
 *   future_timestamp   the same timestamps move to between an hour and two years after the export
 *   duplicate_row      an exact copy of an orders row, appended after the customer's orders
 *   conflicting_id     a copy of an identities row mapped to another customer (the next one by index),
 *                      so one (source, external_id) and its email point at two customer ids
 *
 * customers.csv and order_items.csv stay clean. So the expected count of each kind is rate × eligible rows.
 */
import { formatTimestamp, SECONDS_PER_DAY, type TimeZone } from './calendar';
import type { DirtyKind, DirtyRates } from './options';
import type { Rng } from './random';
import { OUTPUT_FILES } from './schema';

export type DirtyFile = 'orders' | 'returns' | 'sessions' | 'identities';

export interface Dirt {
  readonly kind: DirtyKind;
  /** The affected column, or '' for a whole duplicated row. */
  readonly column: string;
  /** The value before it was spoiled; for duplicates the order id, for conflicts the true customer id. */
  readonly originalValue: string;
}

export interface DirtTally {
  injected: Record<DirtyKind, number>;
  eligible: Record<DirtyKind, number>;
}

const DIRT_KINDS_BY_FILE: Record<DirtyFile, readonly DirtyKind[]> = {
  orders: ['malformed_amount', 'missing_timestamp', 'future_timestamp', 'duplicate_row'],
  returns: ['malformed_amount', 'missing_timestamp', 'future_timestamp'],
  sessions: ['missing_timestamp', 'future_timestamp'],
  identities: ['conflicting_id'],
};

const AMOUNT_COLUMN: Partial<Record<DirtyFile, string>> = { orders: 'amount', returns: 'amount' };
const TIMESTAMP_COLUMN: Partial<Record<DirtyFile, string>> = {
  orders: 'ordered_at',
  returns: 'returned_at',
  sessions: 'started_at',
};

const columnIndex = (file: DirtyFile, column: string): number => (OUTPUT_FILES[file].columns as readonly string[]).indexOf(column);

export interface DirtContext {
  readonly rng: Rng;
  readonly rates: DirtyRates;
  readonly tally: DirtTally;
  readonly exportSecond: number;
  /** The customer's clock, for timestamps moved into the future. */
  readonly zone: TimeZone;
  readonly customerId: string;
  /** Whom a conflicting identity row points at; null when there is no other customer. */
  readonly conflictingCustomerId: string | null;
}

/** Rows after dirt, and the dirt of each row by position (undefined = clean). */
export interface SoiledRows {
  readonly rows: string[][];
  readonly dirt: (Dirt | undefined)[];
}

function malformedAmount(amount: string, rng: Rng): string {
  switch (rng.int(4)) {
    case 0:
      // Decimal comma and a letter O for a zero, as from a hand-edited spreadsheet.
      return amount.replace('.', ',').replace(/0/g, 'O');
    case 1:
      return '';
    case 2:
      return 'abc';
    default:
      return 'N/A';
  }
}

/** Spoils a customer's rows of one file in place, appending duplicated and conflicting rows. */
export function soil(file: DirtyFile, rows: string[][], context: DirtContext): SoiledRows {
  const { rng, rates, tally } = context;
  const kinds = DIRT_KINDS_BY_FILE[file].filter((kind) => kind !== 'conflicting_id' || context.conflictingCustomerId !== null);
  for (const kind of kinds) tally.eligible[kind] += rows.length;
  const dirt: (Dirt | undefined)[] = [];
  const appended: string[][] = [];
  const appendedDirt: Dirt[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    let u = rng.uniform();
    const kind = kinds.find((candidate) => {
      if (u < rates[candidate]) return true;
      u -= rates[candidate];
      return false;
    });
    if (kind === undefined) continue;
    tally.injected[kind]++;
    switch (kind) {
      case 'malformed_amount': {
        const column = AMOUNT_COLUMN[file] as string;
        const at = columnIndex(file, column);
        dirt[i] = { kind, column, originalValue: row[at] };
        row[at] = malformedAmount(row[at], rng);
        break;
      }
      case 'missing_timestamp':
      case 'future_timestamp': {
        const column = TIMESTAMP_COLUMN[file] as string;
        const at = columnIndex(file, column);
        dirt[i] = { kind, column, originalValue: row[at] };
        row[at] =
          kind === 'missing_timestamp'
            ? ''
            : formatTimestamp(context.exportSecond + Math.floor(rng.between(3600, 730 * SECONDS_PER_DAY)), context.zone);
        break;
      }
      case 'duplicate_row':
        appended.push([...row]);
        appendedDirt.push({ kind, column: '', originalValue: row[0] });
        break;
      case 'conflicting_id': {
        const copy = [...row];
        copy[columnIndex(file, 'customer_id')] = context.conflictingCustomerId as string;
        appended.push(copy);
        appendedDirt.push({ kind, column: 'customer_id', originalValue: context.customerId });
        break;
      }
    }
  }
  for (let i = 0; i < appended.length; i++) {
    dirt[rows.length] = appendedDirt[i];
    rows.push(appended[i]);
  }
  return { rows, dirt };
}
