/**
 * The k highest-scoring items of a stream, in a binary min-heap of size k whose root is the weakest item
 * kept: each offer is O(1) when it cannot enter and O(log k) when it replaces the root.
 */
export interface Scored {
  item: number;
  score: number;
}

export class TopK {
  private readonly scores: Float64Array;
  private readonly items: Int32Array;
  private size = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(k);
    this.items = new Int32Array(k);
  }

  /** Items offered in increasing order keep the earlier one on equal scores. */
  offer(item: number, score: number): void {
    if (this.size < this.k) {
      this.scores[this.size] = score;
      this.items[this.size] = item;
      this.siftUp(this.size++);
    } else if (this.k > 0 && score > this.scores[0]) {
      this.scores[0] = score;
      this.items[0] = item;
      this.siftDown(0);
    }
  }

  /** Best first; equal scores by item, ascending. */
  sorted(): Scored[] {
    const result: Scored[] = [];
    for (let i = 0; i < this.size; i++) result.push({ item: this.items[i], score: this.scores[i] });
    return result.sort((a, b) => b.score - a.score || a.item - b.item);
  }

  /** Heap order: lower score is weaker; on equal scores the later item is weaker, so it is evicted first. */
  private weaker(a: number, b: number): boolean {
    return this.scores[a] < this.scores[b] || (this.scores[a] === this.scores[b] && this.items[a] > this.items[b]);
  }

  private siftUp(index: number): void {
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.weaker(child, parent)) return;
      this.swap(child, parent);
      child = parent;
    }
  }

  private siftDown(index: number): void {
    let parent = index;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let weakest = parent;
      if (left < this.size && this.weaker(left, weakest)) weakest = left;
      if (right < this.size && this.weaker(right, weakest)) weakest = right;
      if (weakest === parent) return;
      this.swap(parent, weakest);
      parent = weakest;
    }
  }

  private swap(a: number, b: number): void {
    [this.scores[a], this.scores[b]] = [this.scores[b], this.scores[a]];
    [this.items[a], this.items[b]] = [this.items[b], this.items[a]];
  }
}
