/**
 * Mulberry32: a small, fast, seeded 32-bit generator, uniform on [0, 1). The same seed gives the same sequence on
 * every run, which is what shuffling rows and drawing synthetic test data need (not for cryptography).
 * The demo-data generator has its own streams (datagen/random.ts, sfc32); their sequences differ from this one.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
