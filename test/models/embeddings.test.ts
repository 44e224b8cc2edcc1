import { expect } from 'chai';
import { NotFoundError, ValidationError } from '../../lib/errors';
import { mulberry32 } from '../../lib/random';
import { BehaviourEmbedding } from '../../models/embeddings/behaviour';
import { SimilarCustomers } from '../../models/embeddings/similar';
import { TopK } from '../../models/embeddings/top-k';
import { Standardiser } from '../../models/segments/standardiser';
import type { FeatureMatrix } from '../../models/segments/types';
import { CATEGORIES, FEATURES, syntheticCustomers } from '../support/synthetic-matrix';

function rowOf(values: Float32Array | Float64Array, i: number, width: number): number[] {
  return Array.from(values.subarray(i * width, (i + 1) * width));
}

function distance(a: number[], b: number[]): number {
  return Math.sqrt(a.reduce((sum, v, j) => sum + (v - b[j]) ** 2, 0));
}

describe('models/embeddings', () => {
  describe('behaviour embedding', () => {
    const { matrix, groupOf } = syntheticCustomers(424242, { perGroup: 400, categoryMix: true });
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
      const z = new Standardiser([...FEATURES, ...CATEGORIES], ['orders_365d', 'spend_365d']).fit(matrix).transform(matrix);
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
      const plain = syntheticCustomers(7, { perGroup: 50 }).matrix;
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
