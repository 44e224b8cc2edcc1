/**
 * An exact nearest-neighbour index by cosine similarity over the embeddings of one scoring run, held in memory:
 * one Float32Array of every vector (the `real` values Postgres stores, unchanged) and their norms. A query is a brute
 * force pass (n × dimensions multiply-adds, a few milliseconds for a million 16-dimensional vectors), so results
 * are exact, not approximate.
 *
 * The arithmetic is the SQL's that it replaces (float8 sums in array order, then dot / (|a| · |b|)), and entries
 * keep the order in which they were added (the database's customer_id order), which breaks ties in similarity the
 * way `order by similarity desc, customer_id` did: results are identical, not just close.
 */
export interface IndexedCustomer {
  customerId: string;
  embedding: readonly number[] | null;
  segment: string | null;
  riskBand: string | null;
}

export interface Neighbour {
  customerId: string;
  similarity: number;
  segment: string | null;
  riskBand: string | null;
}

/** Postgres puts NaN above every number; so does the ranking here. */
function ranksAbove(a: number, b: number): boolean {
  return a > b || (Number.isNaN(a) && !Number.isNaN(b));
}

export class EmbeddingIndex {
  private values = new Float32Array(1024);
  private starts: number[] = [0];
  private norms: number[] = [];
  private readonly ids: string[] = [];
  private readonly segments: (string | null)[] = [];
  private readonly riskBands: (string | null)[] = [];
  // Few distinct segment and band names: one string each instead of one per customer.
  private readonly names = new Map<string, string>();

  get size(): number {
    return this.ids.length;
  }

  private intern(name: string | null): string | null {
    if (name === null) return null;
    const known = this.names.get(name);
    if (known !== undefined) return known;
    this.names.set(name, name);
    return name;
  }

  /** Adds customers in ranking tie-break order. Customers without an embedding are kept but never match. */
  add(customer: IndexedCustomer): void {
    const vector = customer.embedding ?? [];
    const start = this.starts[this.starts.length - 1]!;
    if (start + vector.length > this.values.length) {
      const grown = new Float32Array(Math.max(this.values.length * 2, start + vector.length));
      grown.set(this.values);
      this.values = grown;
    }
    let squares = 0;
    for (let i = 0; i < vector.length; i++) {
      const v = Math.fround(vector[i]!);
      this.values[start + i] = v;
      squares += v * v;
    }
    this.starts.push(start + vector.length);
    this.norms.push(customer.embedding === null ? 0 : Math.sqrt(squares));
    this.ids.push(customer.customerId);
    this.segments.push(this.intern(customer.segment));
    this.riskBands.push(this.intern(customer.riskBand));
  }

  /** The k customers other than `exclude` most similar to `target`, most similar first. */
  nearest(target: readonly number[], k: number, exclude?: string): Neighbour[] {
    const dims = target.length;
    let targetSquares = 0;
    for (const v of target) targetSquares += v * v;
    const targetNorm = Math.sqrt(targetSquares);
    const values = this.values;
    const starts = this.starts;
    const norms = this.norms;
    // The best so far, best first: positions and similarities (k is at most a few hundred).
    const best: number[] = [];
    const scores: number[] = [];
    let worst = -Infinity;
    for (let i = 0; i < this.ids.length; i++) {
      const start = starts[i]!;
      if (starts[i + 1]! - start !== dims) continue;
      const denominator = norms[i]! * targetNorm;
      if (denominator === 0) continue; // the SQL's nullif(…, 0): no direction, no similarity
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += values[start + d]! * target[d]!;
      const similarity = dot / denominator;
      // Most candidates fail this first, cheap test against the k-th best so far.
      if (best.length === k && !(similarity > worst) && !(Number.isNaN(similarity) && !Number.isNaN(worst))) continue;
      if (this.ids[i] === exclude) continue;
      // After every entry it does not rank above: equal similarities keep index order.
      let at = best.length;
      while (at > 0 && ranksAbove(similarity, scores[at - 1]!)) at--;
      best.splice(at, 0, i);
      scores.splice(at, 0, similarity);
      if (best.length > k) {
        best.pop();
        scores.pop();
      }
      worst = scores[scores.length - 1]!;
    }
    return best.map((i, rank) => ({
      customerId: this.ids[i]!,
      similarity: scores[rank]!,
      segment: this.segments[i]!,
      riskBand: this.riskBands[i]!,
    }));
  }
}
