import { ValidationError } from '../../lib/errors';
import { dayNumber, summarizeCustomers, type CustomerSummary, type SummaryPeriods, type Transaction } from './calibration-summary';

/**
 * Parsing of the CDNOW benchmark files (Fader, Hardie & Lee 2005) from their text; reading the files is
 * the caller's job. Two layouts, whitespace-separated, dates yyyymmdd:
 * - 'master': header `customer_id date number_of_cds dollar_value`, the full 23,570-customer cohort;
 * - 'sample': no header, `master_id sample_id date cds dollars`, the 1/10 sample keyed by sample_id.
 */
export type CdnowLayout = 'master' | 'sample';

/** The standard setup: calibration 1997-01-01..1997-09-30 (39 weeks), holdout to 1998-06-30, in weeks. */
export const CDNOW_PERIODS: SummaryPeriods = {
  calibrationEnd: dayNumber('1997-09-30'),
  holdoutEnd: dayNumber('1998-06-30'),
  daysPerUnit: 7,
};

export function parseCdnowTransactions(text: string, layout: CdnowLayout): Transaction[] {
  const fieldCount = layout === 'master' ? 4 : 5;
  const transactions: Transaction[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === '' || (layout === 'master' && fields[0] === 'customer_id')) return;
    if (fields.length !== fieldCount) {
      throw new ValidationError(`CDNOW ${layout} line ${index + 1}: expected ${fieldCount} fields, got ${fields.length}`);
    }
    const [id, date, , dollars] = layout === 'master' ? fields : fields.slice(1);
    const value = Number(dollars);
    if (!/^\d+$/.test(id) || !/^\d{8}$/.test(date) || !Number.isFinite(value)) {
      throw new ValidationError(`CDNOW ${layout} line ${index + 1}: cannot parse "${line.trim()}"`);
    }
    transactions.push({
      // Ids are zero-padded numbers in the files ("0001") and plain numbers in the published summaries.
      customerId: String(Number(id)),
      day: dayNumber(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`),
      value,
    });
  });
  return transactions;
}

/** The standard CDNOW calibration summary (x, t_x, T in weeks, z̄) and 39-week holdout counts, from file text. */
export function cdnowCalibrationSummary(text: string, layout: CdnowLayout): CustomerSummary[] {
  return summarizeCustomers(parseCdnowTransactions(text, layout), CDNOW_PERIODS);
}
