import { expect } from 'chai';
import { NotFoundError, ValidationError } from '../../lib/errors';
import { mulberry32 } from '../../lib/random';
import { BehaviourEmbedding } from '../../models/embeddings/behaviour';
import { SimilarCustomers } from '../../models/embeddings/similar';
import { TopK } from '../../models/embeddings/top-k';
import { Standardiser } from '../../models/segments/standardiser';
import type { FeatureMatrix } from '../../models/segments/types';

const FEATURES = ['recency_days', 'orders_365d', 'spend_365d', 'discount_share', 'tenure_days'];
const CATEGORIES = ['category_share_fashion', 'category_share_home', 'category_share_beauty', 'category_share_toys'];

type Random = () => number;
const uniform = (random: Random, lo: number, hi: number) => lo + (hi - lo) * random();
const normal = (random: Random, mean: number, sd: number) =>
  mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const count = (random: Random, mean: number, sd: number) => Math.max(1, Math.round(normal(random, mean, sd)));
const money = (random: Random, median: number, logSd: number) => median * Math.exp(normal(random, 0, logSd));
const share = (random: Random, mean: number, sd: number) => Math.min(1, Math.max(0, normal(random, mean, sd)));

/** Six behavioural groups, each with a favourite category: [recency, orders, spend, discount, tenure] + mix. */
const GROUPS: Record<string, { draw: (random: Random) => number[]; favourite: number }> = {
  champions: {
    draw: (r) => [Math.round(uniform(r, 1, 20)), count(r, 20, 3), money(r, 3000, 0.25), share(r, 0.05, 0.03), normal(r, 1200, 150)],
    favourite: 0,
  },
  slipping: {
    draw: (r) => [Math.round(uniform(r, 250, 365)), count(r, 12, 2), money(r, 2000, 0.25), share(r, 0.1, 0.03), normal(r, 1500, 150)],
    favourite: 1,
  },
  lost: { draw: (r) => [Math.round(uniform(r, 250, 365)), 1, money(r, 30, 0.3), share(r, 0.1, 0.05), normal(r, 400, 100)], favourite: 2 },
  newcomers: { draw: (r) => [Math.round(uniform(r, 1, 25)), 1, money(r, 60, 0.3), share(r, 0.15, 0.05), uniform(r, 1, 30)], favourite: 3 },
  bargainers: {
    draw: (r) => [Math.round(uniform(r, 30, 120)), count(r, 6, 1.5), money(r, 300, 0.3), share(r, 0.6, 0.08), normal(r, 700, 150)],
    favourite: 2,
  },
  steady: {
    draw: (r) => [Math.round(uniform(r, 30, 120)), count(r, 5, 1.5), money(r, 400, 0.3), share(r, 0.05, 0.03), normal(r, 900, 150)],
    favourite: 0,
  },
};

interface Synthetic {
  matrix: FeatureMatrix;
  groupOf: Map<string, string>;
}

/** Customers of the six groups, shuffled; with `withCategoryMix`, shares that lean to the group's favourite. */
function syntheticCustomers(seed: number, perGroup: number, withCategoryMix: boolean): Synthetic {
  const random = mulberry32(seed);
  const rows: { id: string; group: string; values: number[] }[] = [];
  for (const [group, { draw, favourite }] of Object.entries(GROUPS)) {
    for (let i = 0; i < perGroup; i++) {
      const values = draw(random);
      if (withCategoryMix) {
        const weights = CATEGORIES.map((_, c) => (c === favourite ? 3 : 1) * uniform(random, 0.5, 1.5));
        const total = weights.reduce((a, b) => a + b, 0);
        values.push(...weights.map((w) => w / total));
      }
      rows.push({ id: `${group}-${i}`, group, values });
    }
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  const featureNames = withCategoryMix ? [...FEATURES, ...CATEGORIES] : [...FEATURES];
  const matrix: FeatureMatrix = {
    customerIds: rows.map((row) => row.id),
    featureNames,
    X: Float32Array.from(rows.flatMap((row) => row.values)),
    nrow: rows.length,
    ncol: featureNames.length,
  };
  return { matrix, groupOf: new Map(rows.map((row) => [row.id, row.group])) };
}

function rowOf(values: Float32Array | Float64Array, i: number, width: number): number[] {
  return Array.from(values.subarray(i * width, (i + 1) * width));
}

function distance(a: number[], b: number[]): number {
  return Math.sqrt(a.reduce((sum, v, j) => sum + (v - b[j]) ** 2, 0));
}

describe('models/embeddings', () => {
  describe('behaviour embedding', () => {
    const { matrix, groupOf } = syntheticCustomers(424242, 400, true);
    const embedding = new BehaviourEmbedding().fit(matrix);
    const vectors = embedding.transform(matrix);

    it('has 16 dimensions, zero-padded beyond the number of input columns', () => {
      expect(vectors.length).to.equal(matrix.nrow * 16);
      // 5 behavioural + 4 category-mix columns: 9 components, dimensions 10–16 are padding.
      for (let i = 0; i < matrix.nrow; i++)
        expect(
          rowOf(vectors, i, 16)
            .slice(9)
            .every((v) => v === 0),
        ).to.equal(true);
      const ratio = embedding.explainedVarianceRatio;
      expect(ratio).to.have.length(16);
      expect(ratio.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-9);
      for (let c = 1; c < 9; c++) expect(ratio[c]).to.be.at.most(ratio[c - 1]);
    });

    it('preserves distances between customers when no component is dropped (a rotation of the z-scores)', () => {
      const z = Standardiser.fit(matrix, [...FEATURES, ...CATEGORIES], ['orders_365d', 'spend_365d']).transform(matrix);
      for (const [a, b] of [
        [0, 1],
        [2, 3],
        [10, 500],
        [7, 2000],
      ]) {
        const inEmbedding = distance(rowOf(vectors, a, 16), rowOf(vectors, b, 16));
        expect(inEmbedding).to.be.closeTo(distance(rowOf(z, a, 9), rowOf(z, b, 9)), 1e-4);
      }
    });

    it("puts each customer's nearest neighbour in the same synthetic group", () => {
      const index = new SimilarCustomers(matrix.customerIds, vectors, 16);
      const sample = matrix.customerIds.slice(0, 600);
      const sameGroup = sample.filter((id) => groupOf.get(index.similarTo(id, 1)[0].customerId) === groupOf.get(id)).length;
      expect(sameGroup / sample.length).to.be.above(0.95);
    });

    it('keeps only the 16 strongest components when there are more columns', () => {
      const wide: FeatureMatrix = {
        ...matrix,
        featureNames: [...matrix.featureNames, ...Array.from({ length: 12 }, (_, c) => `category_share_extra${c}`)],
        ncol: matrix.ncol + 12,
        X: Float32Array.from({ length: matrix.nrow * (matrix.ncol + 12) }, (_, k) => {
          const i = Math.floor(k / (matrix.ncol + 12));
          const j = k % (matrix.ncol + 12);
          return j < matrix.ncol ? matrix.X[i * matrix.ncol + j] : ((i * 7919 + j * 104729) % 1000) / 1000;
        }),
      };
      const model = new BehaviourEmbedding().fit(wide);
      const ratio = model.explainedVarianceRatio;
      expect(model.toJSON().components).to.have.length(16);
      expect(ratio.every((r) => r > 0)).to.equal(true);
      expect(ratio.reduce((a, b) => a + b, 0)).to.be.below(1);
    });

    it('is deterministic and round-trips through JSON with identical vectors', () => {
      expect(Array.from(new BehaviourEmbedding().fit(matrix).transform(matrix))).to.deep.equal(Array.from(vectors));
      const restored = BehaviourEmbedding.fromJSON(JSON.parse(JSON.stringify(embedding)));
      expect(Array.from(restored.transform(matrix))).to.deep.equal(Array.from(vectors));
    });

    it('embeds only the behavioural columns when there is no category mix', () => {
      const plain = syntheticCustomers(7, 50, false).matrix;
      const model = new BehaviourEmbedding().fit(plain);
      expect(model.toJSON().standardiser.columns).to.deep.equal(FEATURES);
      expect(model.explainedVarianceRatio.slice(5).every((r) => r === 0)).to.equal(true);
      expect(() => model.transform({ ...plain, featureNames: ['a', 'b', 'c', 'd', 'e'] })).to.throw(ValidationError, /recency_days/);
    });
  });

  describe('similar customers', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    // 2-D vectors at known angles; 'e' is the zero vector.
    const vectors = Float32Array.from([1, 0, 0.9, 0.1, 0, 1, -1, 0, 0, 0]);
    const index = new SimilarCustomers(ids, vectors, 2);

    it('ranks by cosine similarity, excluding the customer itself', () => {
      const result = index.similarTo('a', 3);
      expect(result.map((r) => r.customerId)).to.deep.equal(['b', 'c', 'e']);
      expect(result[0].similarity).to.be.closeTo(0.9 / Math.hypot(0.9, 0.1), 1e-6);
      expect(result[1].similarity).to.be.closeTo(0, 1e-6);
      expect(index.similarTo('a', 10)).to.have.length(4);
      expect(index.nearestTo([-2, 0], 1)).to.deep.equal([{ customerId: 'd', similarity: 1 }]);
    });

    it('has nothing to say about a zero vector or an unknown customer', () => {
      expect(index.similarTo('e')).to.deep.equal([]);
      expect(() => index.similarTo('nobody')).to.throw(NotFoundError);
      expect(() => new SimilarCustomers(['a', 'a'], new Float32Array(4), 2)).to.throw(ValidationError, /unique/);
    });

    it('keeps the same top k as a full sort, ties broken by position', () => {
      const random = mulberry32(3);
      const scores = Array.from({ length: 5000 }, () => Math.round(random() * 200) / 200);
      const heap = new TopK(25);
      scores.forEach((score, item) => heap.offer(item, score));
      const expected = scores
        .map((score, item) => ({ item, score }))
        .sort((a, b) => b.score - a.score || a.item - b.item)
        .slice(0, 25);
      expect(heap.sorted()).to.deep.equal(expected);
    });

    it('answers for one customer among 1,000,000 in well under a second', () => {
      const n = 1_000_000;
      const random = mulberry32(17);
      const embeddings = new Float32Array(n * 16);
      for (let k = 0; k < embeddings.length; k++) embeddings[k] = random() - 0.5;
      const customerIds = Array.from({ length: n }, (_, i) => `c${i}`);
      const big = new SimilarCustomers(customerIds, embeddings, 16);
      big.similarTo('c123456', 10); // warm up the JIT
      const started = process.hrtime.bigint();
      const result = big.similarTo('c654321', 10);
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      expect(result).to.have.length(10);
      expect(elapsedMs).to.be.below(500);
    });
  });
});
