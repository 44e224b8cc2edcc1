/**
 * identities.csv rows of one customer: how the web shop, the mobile app and the store tills know them.
 * The everyday mess that identity resolution must cope with is always present (it is not counted as dirt):
 * the app and the tills store the email as typed (other case, stray spaces), app accounts are sometimes
 * not yet linked to a customer id, a lost loyalty card is replaced by a second card for the same person,
 * and app syncs sometimes deliver the same row twice. Conflicting ids are dirt and are added in dirty.ts.
 */
import type { CustomerProfile } from './profile';
import { mix32, type Rng } from './random';

/** Rows are [source, external_id, email, customer_id]. */
export type IdentityRow = [string, string, string, string];

const UNLINKED_APP_ACCOUNT = 0.2;
const REPEATED_APP_SYNC = 0.03;
const POS_WITHOUT_EMAIL = 0.4;
const SECOND_LOYALTY_CARD = 0.12;

/** Keys per source so external ids of one customer do not reveal each other or the customer index. */
function sourceKey(seed: number, source: number): number {
  return mix32(mix32(seed >>> 0) ^ source);
}

/** Bijective in `value`, so distinct customers never share an external id of a source. */
function externalNumber(value: number, seed: number, source: number): number {
  return mix32((value ^ sourceKey(seed, source)) >>> 0);
}

const hex8 = (value: number): string => value.toString(16).padStart(8, '0');

/** The email as someone typed it into another system. */
function emailAsTyped(email: string, rng: Rng): string {
  const u = rng.uniform();
  if (u < 0.3) return email.replace(/(^|[._@])([a-z])/g, (_, separator: string, letter: string) => separator + letter.toUpperCase());
  if (u < 0.4) return email.toUpperCase();
  if (u < 0.5) return ` ${email}`;
  if (u < 0.6) return `${email} `;
  return email;
}

export function drawIdentities(profile: CustomerProfile, seed: number, rng: Rng): IdentityRow[] {
  const { index, customerId, email } = profile;
  const rows: IdentityRow[] = [['web', `u_${hex8(externalNumber(index, seed, 1))}`, email, customerId]];
  if (profile.usesApp) {
    const row: IdentityRow = [
      'app',
      `app-${hex8(externalNumber(index, seed, 2))}`,
      emailAsTyped(email, rng),
      rng.chance(UNLINKED_APP_ACCOUNT) ? '' : customerId,
    ];
    rows.push(row);
    if (rng.chance(REPEATED_APP_SYNC)) rows.push([...row]);
  }
  if (profile.hasLoyaltyCard) {
    const cardEmail = (): string => (rng.chance(POS_WITHOUT_EMAIL) ? '' : emailAsTyped(email, rng));
    // Card numbers: 2 + ten digits. A replacement card uses the index with the top bit set, which no
    // customer index has (MAX_CUSTOMERS < 2^31), so it never collides with a first card.
    const cardNumber = (value: number): string => `2${String(externalNumber(value, seed, 3)).padStart(10, '0')}`;
    rows.push(['pos', cardNumber(index), cardEmail(), customerId]);
    if (rng.chance(SECOND_LOYALTY_CARD)) rows.push(['pos', cardNumber((index | 0x80000000) >>> 0), cardEmail(), customerId]);
  }
  return rows;
}
