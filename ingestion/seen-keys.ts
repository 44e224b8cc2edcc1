import crypto from 'node:crypto';

export type Sighting = 'new' | 'repeat' | 'conflict';

const WORDS_PER_SLOT = 6; // 4 words of the key's digest, 2 of the value
const MAX_LOAD = 0.75;

/**
 * Keys of one file, each with two 32-bit words of value, without keeping the keys. A key is the first 128 bits of its
 * SHA-256 (one bit forced on to mark a used slot, so 127 bits: a collision among 10 M keys has odds near 10^-25, and
 * SHA-256 cannot be steered by a hostile file as FNV could).
 *
 * Memory: an open-addressing table of 24 bytes per slot in one typed array, doubled when three quarters full. For
 * 10 M keys that is 2^24 slots = 384 MiB (576 MiB for the moment of the last doubling), outside the JS heap; a Map
 * of the key strings would take over 1 GB and stops at 2^24 entries.
 */
class DigestTable {
  protected slots: Uint32Array;
  private mask: number;
  private used = 0;

  constructor(initialSlots = 1 << 14) {
    this.slots = new Uint32Array(initialSlots * WORDS_PER_SLOT);
    this.mask = initialSlots - 1;
  }

  get size(): number {
    return this.used;
  }

  /**
   * The index of `key`'s value words in `slots` (at and at + 1), and whether the key is new; a new key's value words
   * are set to `initial`.
   */
  protected slot(key: string, initial: readonly [number, number]): { at: number; isNew: boolean } {
    const k = crypto.hash('sha256', key, 'buffer');
    const k0 = (k.readUInt32LE(0) | 1) >>> 0;
    const k1 = k.readUInt32LE(4);
    const k2 = k.readUInt32LE(8);
    const k3 = k.readUInt32LE(12);
    const s = this.slots;
    for (let i = k1 & this.mask; ; i = (i + 1) & this.mask) {
      const at = i * WORDS_PER_SLOT;
      if (s[at] === 0) {
        s[at] = k0;
        s[at + 1] = k1;
        s[at + 2] = k2;
        s[at + 3] = k3;
        s[at + 4] = initial[0];
        s[at + 5] = initial[1];
        if (++this.used > (this.mask + 1) * MAX_LOAD) {
          this.grow();
          // The key moved: find it again (it is there now, so that lookup says it is not new; it was).
          return { at: this.slot(key, initial).at, isNew: true };
        }
        return { at: at + 4, isNew: true };
      }
      if (s[at] === k0 && s[at + 1] === k1 && s[at + 2] === k2 && s[at + 3] === k3) return { at: at + 4, isNew: false };
    }
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    this.slots = new Uint32Array(capacity * WORDS_PER_SLOT);
    this.mask = capacity - 1;
    for (let at = 0; at < old.length; at += WORDS_PER_SLOT) {
      if (old[at] === 0) continue;
      let i = old[at + 1]! & this.mask;
      while (this.slots[i * WORDS_PER_SLOT] !== 0) i = (i + 1) & this.mask;
      this.slots.set(old.subarray(at, at + WORDS_PER_SLOT), i * WORDS_PER_SLOT);
    }
  }
}

/**
 * The natural keys already seen in one file, each with a 64-bit fingerprint (SHA-256) of its row, to tell an exact
 * repeat of a row from a different row with the same key without keeping the rows; a fingerprint is compared only
 * with the one earlier row of the same key.
 */
export class SeenKeys extends DigestTable {
  /** Remembers `key` with `row` the first time ('new'); later, says whether `row` is the same as that first one. */
  see(key: string, row: string): Sighting {
    const r = crypto.hash('sha256', row, 'buffer');
    const print = [r.readUInt32LE(0), r.readUInt32LE(4)] as const;
    const { at, isNew } = this.slot(key, print);
    if (isNew) return 'new';
    return this.slots[at] === print[0] && this.slots[at + 1] === print[1] ? 'repeat' : 'conflict';
  }
}

/** How many times each key has been counted in one file: the position of a row within its parent (1, 2, 3…). */
export class KeyCounts extends DigestTable {
  /** Counts `key` once more and returns its count so far, this one included. */
  next(key: string): number {
    const { at, isNew } = this.slot(key, [1, 0]);
    return isNew ? 1 : ++this.slots[at]!;
  }
}
