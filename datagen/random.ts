/**
 * Seeded randomness for the demo-data generator. Every customer gets its own generator derived from
 * (seed, customer index, stream), so a customer's data never depends on how many customers came before it
 * or how the work was chunked, and separate streams keep e.g. dirt injection from shifting behaviour.
 */

/** A bijective 32-bit mixer (lowbias32): distinct inputs give distinct outputs, which keeps derived ids unique. */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const TWO_POW_32 = 4294967296;

/** sfc32: small, fast and statistically solid; plenty for synthetic data, not for cryptography. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
    // The first outputs of sfc32 still echo the seed words; discard them.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform on [0, 1). */
  uniform(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform on (0, 1]: safe to take the logarithm of. */
  private uniformPositive(): number {
    return 1 - this.uniform();
  }

  between(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  chance(probability: number): boolean {
    return this.uniform() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Index drawn with probability proportional to weights, given as cumulative sums (last = total). */
  pickCumulative(cumulativeWeights: ArrayLike<number>): number {
    const last = cumulativeWeights.length - 1;
    const target = this.uniform() * cumulativeWeights[last];
    for (let i = 0; i < last; i++) if (target < cumulativeWeights[i]) return i;
    return last;
  }

  exponential(rate: number): number {
    return -Math.log(this.uniformPositive()) / rate;
  }

  /** Standard normal by Box-Muller. */
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.uniformPositive())) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Gamma(shape, scale) by Marsaglia-Tsang; shapes below 1 are boosted through Gamma(shape + 1). */
  gamma(shape: number, scale: number): number {
    if (shape < 1) return this.gamma(shape + 1, scale) * Math.pow(this.uniformPositive(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  /** Gamma with the given mean and shape (coefficient of variation 1/sqrt(shape)). */
  gammaWithMean(mean: number, shape: number): number {
    return this.gamma(shape, mean / shape);
  }

  /** Beta with the given mean and concentration (alpha + beta), via two gammas. */
  betaWithMean(mean: number, concentration: number): number {
    const x = this.gamma(mean * concentration, 1);
    const y = this.gamma((1 - mean) * concentration, 1);
    return x / (x + y);
  }

  /** Poisson by Knuth's multiplication method: exact, and fast for the small means used here. */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let count = -1;
    let product = 1;
    do {
      count++;
      product *= this.uniform();
    } while (product > limit);
    return count;
  }
}

/** Running sums of weights, the form pickCumulative takes. */
export function cumulativeWeights(weights: readonly number[]): number[] {
  let sum = 0;
  return weights.map((w) => (sum += w));
}

/** Independent random streams of one customer; new streams must take new numbers so old data stays put. */
export const STREAM = { catalog: 1, behaviour: 2, dirt: 3, offerResponse: 4 } as const;

/** The generator for one (seed, index, stream); seed is any non-negative safe integer. */
export function deriveRng(seed: number, index: number, stream: number): Rng {
  const seedLow = seed >>> 0;
  const seedHigh = Math.floor(seed / TWO_POW_32) >>> 0;
  // Each step is a bijection of the running value, so distinct indexes always give distinct states.
  let x = mix32(seedLow ^ 0x243f6a88);
  x = mix32(x ^ seedHigh);
  x = mix32(x ^ stream);
  x = mix32(x ^ index);
  const b = mix32(x ^ 0x85ebca6b);
  const c = mix32(b ^ 0xc2b2ae35);
  const d = mix32(c ^ 0x27d4eb2f);
  return new Rng(x, b, c, d);
}
