import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../../lib/errors';
import { mulberry32 } from '../../lib/random';
import { minimumCostAssignment } from '../../models/segments/hungarian';
import { BehaviourClusters } from '../../models/segments/kmeans';
import { GONE_CUSTOMERS, NEW_CUSTOMERS, segmentMigration } from '../../models/segments/migration';
import { learnQuintileCuts, quintileScore } from '../../models/segments/quintile-cuts';
import { RfmModel } from '../../models/segments/rfm';
import { RFM_SEGMENTS, rfmSegment } from '../../models/segments/rfm-segments';
import type { FeatureMatrix } from '../../models/segments/types';
import { GROUPS, normal, syntheticCustomers, toMatrix } from '../support/synthetic-matrix';

/** Rows shuffled and every value jittered by about 2%, as the next week's data might be; `keep` drops customers. */
function perturbedCopy(matrix: FeatureMatrix, seed: number, keep: (customerId: string) => boolean = () => true): FeatureMatrix {
  const random = mulberry32(seed);
  const order = matrix.customerIds.flatMap((id, i) => (keep(id) ? [i] : []));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return toMatrix(
    order.map((i) => ({
      id: matrix.customerIds[i],
      values: Array.from(matrix.X.subarray(i * matrix.ncol, (i + 1) * matrix.ncol), (v) => v * (1 + normal(random, 0, 0.02))),
    })),
  );
}

function shareOf<T>(values: T[], value: T): number {
  return values.filter((v) => v === value).length / values.length;
}

describe('models/segments', () => {
  const { matrix, groupOf } = syntheticCustomers(20261125, { perGroup: 800, missingRate: 0.01 });

  describe('quintile cuts', () => {
    it('never split a tie group and place each cut at the tie edge nearest its quintile', () => {
      // 1 × 30%, then 2..8 spread out: the first cut cannot be at 20% and goes after the tied 1s.
      const values = Float32Array.from([...Array(30).fill(1), ...Array.from({ length: 70 }, (_, i) => 2 + Math.floor(i / 10))]);
      const cuts = learnQuintileCuts(values, 'orders');
      expect(cuts).to.deep.equal([1.5, 2.5, 4.5, 6.5]);
      const scores = Array.from(values, (v) => quintileScore(v, cuts));
      const scoreOfValue = new Map<number, Set<number>>();
      values.forEach((v, i) => scoreOfValue.set(v, (scoreOfValue.get(v) ?? new Set()).add(scores[i])));
      for (const set of scoreOfValue.values()) expect(set.size).to.equal(1);
      expect([1, 2, 3, 4, 5].map((score) => shareOf(scores, score))).to.deep.equal([0.3, 0.1, 0.2, 0.2, 0.2]);
    });

    it('move a cut to the nearer edge of a tie group straddling it', () => {
      // 0..99 except positions 35–52, which all hold 35: the 40% cut goes before the group (5 away, not 13).
      const values = Float32Array.from({ length: 100 }, (_, i) => (i >= 35 && i <= 52 ? 35 : i));
      expect(learnQuintileCuts(values, 'x')).to.deep.equal([19.5, 34.5, 59.5, 79.5]);
    });

    it('put everyone in the lowest quintile when all values are equal, and NaN lowest', () => {
      const cuts = learnQuintileCuts(Float32Array.from([3, 3, 3, NaN]), 'x');
      expect(cuts).to.deep.equal([3, 3, 3, 3]);
      expect(quintileScore(3, cuts)).to.equal(1);
      expect(quintileScore(NaN, cuts)).to.equal(1);
    });
  });

  describe('RFM', () => {
    const known = toMatrix([
      { id: 'known-champion', values: [2, 30, 5000, 0.02, 1500] },
      { id: 'known-cant-lose', values: [360, 25, 4000, 0.05, 1800] },
      { id: 'known-lost', values: [364, 1, 10, 0.1, 300] },
      { id: 'known-new', values: [1, 1, 20, 0.1, 3] },
      { id: 'at-threshold', values: [60, 5, 300, 0.3, 700] },
      { id: 'below-threshold', values: [60, 5, 300, 0.29, 700] },
      { id: 'no-discount-share', values: [60, 5, 300, NaN, 700] },
      { id: 'never-ordered', values: [NaN, NaN, NaN, NaN, 10] },
    ]);
    const model = new RfmModel().fit(matrix);
    const scores = model.predict(matrix);
    const byId = new Map(model.predict(known).map((score) => [score.customerId, score]));

    it('gives balanced quintiles (about 20% each) on recency and spend', () => {
      for (const key of ['r', 'm'] as const) {
        for (let score = 1; score <= 5; score++) {
          expect(
            shareOf(
              scores.map((s) => s[key]),
              score,
            ),
            `${key} = ${score}`,
          ).to.be.within(0.18, 0.22);
        }
      }
    });

    it('gives the same F score to every customer with the same order count', () => {
      const fOfOrders = new Map<number, Set<number>>();
      scores.forEach((s, i) => {
        const orders = matrix.X[i * matrix.ncol + 1];
        fOfOrders.set(orders, (fOfOrders.get(orders) ?? new Set()).add(s.f));
      });
      for (const fs of fOfOrders.values()) expect(fs.size).to.equal(1);
    });

    it('puts known customers in the expected segments', () => {
      expect(byId.get('known-champion')).to.include({ r: 5, f: 5, m: 5, segment: 'Champions' });
      expect(byId.get('known-cant-lose')).to.include({ r: 1, f: 5, m: 5, segment: "Can't lose" });
      expect(byId.get('known-lost')).to.include({ r: 1, f: 1, m: 1, segment: 'Lost' });
      expect(byId.get('known-new')).to.include({ r: 5, f: 1, m: 1, segment: 'New' });
      expect(byId.get('never-ordered')).to.include({ r: 1, f: 1, m: 1, segment: 'Lost', priceSensitive: false });
    });

    it('puts synthetic groups in the segments their behaviour implies', () => {
      const segmentsOf = (group: string) => scores.filter((s) => groupOf.get(s.customerId) === group).map((s) => s.segment);
      expect(shareOf(segmentsOf('champions'), 'Champions')).to.be.above(0.9);
      for (const segment of segmentsOf('slipping')) expect(segment).to.be.oneOf(["Can't lose", 'At risk']);
      for (const segment of segmentsOf('lost')) expect(segment).to.be.oneOf(['Lost', 'Hibernating']);
    });

    it('flags price sensitivity at a discount share of at least the threshold', () => {
      expect(byId.get('at-threshold')!.priceSensitive).to.equal(true);
      expect(byId.get('below-threshold')!.priceSensitive).to.equal(false);
      expect(byId.get('no-discount-share')!.priceSensitive).to.equal(false);
      const strict = new RfmModel({ priceSensitiveThreshold: 0.5 }).fit(matrix).predict(known);
      expect(strict.find((s) => s.customerId === 'at-threshold')!.priceSensitive).to.equal(false);
    });

    it('uses every named segment in the grid and only those', () => {
      const used = new Set<string>();
      for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) used.add(segmentFor(model, r, f, m));
      expect([...used].sort()).to.deep.equal([...RFM_SEGMENTS].sort());
    });

    it('matches the segment table documented in models/segments/README.md', () => {
      const readme = readFileSync(join(__dirname, '../../models/segments/README.md'), 'utf8');
      const rows = readme.split('\n').filter((line) => /^\| \*\*[1-5]\*\* \|/.test(line));
      expect(rows).to.have.length(5);
      for (const line of rows) {
        const [fmCell, ...cells] = line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim());
        const fm = Number(fmCell.replace(/\*/g, ''));
        cells.forEach((segment, r) => expect(rfmSegment(r + 1, fm, fm), `R=${r + 1} FM=${fm}`).to.equal(segment));
      }
    });

    it('round-trips through JSON with identical predictions', () => {
      const restored = RfmModel.fromJSON(JSON.parse(JSON.stringify(model)));
      expect(restored.predict(matrix)).to.deep.equal(scores);
      expect(restored.params).to.deep.equal(model.params);
    });

    it('names the missing column', () => {
      const noSpend = { ...matrix, featureNames: matrix.featureNames.map((n) => (n === 'spend_365d' ? 'spend' : n)) };
      expect(() => new RfmModel().fit(noSpend)).to.throw(ValidationError, /spend_365d/);
      expect(() => new RfmModel().predict(matrix)).to.throw(/not fitted/);
    });
  });

  describe('Hungarian assignment', () => {
    it('finds the minimum-cost assignment, square and rectangular', () => {
      expect(
        minimumCostAssignment([
          [4, 1, 3],
          [2, 0, 5],
          [3, 2, 2],
        ]),
      ).to.deep.equal([1, 0, 2]);
      // More rows than columns: the costliest row is left out.
      expect(
        minimumCostAssignment([
          [1, 9],
          [9, 1],
          [5, 5],
        ]),
      ).to.deep.equal([0, 1, -1]);
      expect(minimumCostAssignment([[3, 1, 2]])).to.deep.equal([1]);
    });
  });

  describe('behavioural k-means', () => {
    const model = new BehaviourClusters({ seed: 11 }).fit(matrix);
    const ids = model.predict(matrix);
    const before = new Map(matrix.customerIds.map((id, i) => [id, ids[i]]));
    const agreementWithFirstRun = (next: FeatureMatrix, nextIds: Int32Array) =>
      next.customerIds.filter((id, i) => before.get(id) === nextIds[i]).length / next.nrow;

    it('is deterministic for the same data and seed', () => {
      const again = new BehaviourClusters({ seed: 11 }).fit(matrix);
      expect(again.toJSON()).to.deep.equal(model.toJSON());
    });

    it('recovers the synthetic groups', () => {
      for (const group of Object.keys(GROUPS)) {
        const members = matrix.customerIds.flatMap((id, i) => (groupOf.get(id) === group ? [ids[i]] : []));
        const majority = Math.max(...model.clusters.map((c) => shareOf(members, c.id)));
        expect(majority, group).to.be.above(0.95);
      }
    });

    it('numbers first-run clusters by size and describes them from their centroids', () => {
      const clusters = model.clusters;
      expect(clusters.map((c) => c.id)).to.deep.equal([0, 1, 2, 3, 4, 5]);
      for (let i = 1; i < clusters.length; i++) expect(clusters[i].size).to.be.at.most(clusters[i - 1].size);
      const championsCluster = mostCommonId(ids, matrix, groupOf, 'champions');
      const description = clusters.find((c) => c.id === championsCluster)!.description;
      expect(description).to.match(/frequent|high spend|recent/);
      expect(description).not.to.match(/infrequent|low spend|lapsed/);
    });

    it('keeps cluster ids for the same groups when refitted on shuffled, perturbed data with another seed', () => {
      // Half of the largest cluster leaves, so numbering by size alone would now give different ids.
      const largest = model.clusters[0].id;
      const next = perturbedCopy(matrix, 99, (id) => before.get(id) !== largest || Number(id.split('-')[1]) % 2 === 0);
      const refit = new BehaviourClusters({ seed: 12345 }).fit(next, { previous: model });
      expect(agreementWithFirstRun(next, refit.predict(next))).to.be.above(0.95);
      expect(refit.clusters.map((c) => c.id)).to.deep.equal([0, 1, 2, 3, 4, 5]);
      const unmatched = new BehaviourClusters({ seed: 12345 }).fit(next);
      expect(agreementWithFirstRun(next, unmatched.predict(next))).to.be.below(0.9);
    });

    it('gives a fresh id to a cluster that did not exist before', () => {
      const refit = new BehaviourClusters({ seed: 11, k: 7 }).fit(perturbedCopy(matrix, 5), { previous: model });
      expect(refit.clusters.map((c) => c.id)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
      expect(refit.toJSON().nextId).to.equal(7);
    });

    it('gives a fresh id, not a retired one, when a matched centroid moved farther than maxMatchDistance', () => {
      // The newcomers turn into heavy discount buyers who never existed before.
      const changed = perturbedCopy(matrix, 6);
      changed.customerIds.forEach((id, i) => {
        if (groupOf.get(id) === 'newcomers') changed.X[i * changed.ncol + 3] = 0.95;
      });
      const refit = new BehaviourClusters({ seed: 11, maxMatchDistance: 1 }).fit(changed, { previous: model });
      const newcomersId = mostCommonId(refit.predict(changed), changed, groupOf, 'newcomers');
      expect(newcomersId).to.equal(6);
      const unchanged = refit.clusters.map((c) => c.id).filter((id) => id !== 6);
      expect(unchanged).to.have.length(5);
      const chained = new BehaviourClusters({ seed: 11, maxMatchDistance: 1 }).fit(matrix, { previous: refit });
      expect(chained.clusters.map((c) => c.id)).to.include(7);
    });

    it('round-trips through JSON with identical predictions', () => {
      const restored = BehaviourClusters.fromJSON(JSON.parse(JSON.stringify(model)));
      expect(Array.from(restored.predict(matrix))).to.deep.equal(Array.from(ids));
      expect(restored.clusters).to.deep.equal(model.clusters);
    });

    it('refuses a previous model over different columns', () => {
      const other = new BehaviourClusters({ columns: ['recency_days', 'orders_365d'] }).fit(matrix);
      expect(() => new BehaviourClusters().fit(matrix, { previous: other })).to.throw(ValidationError, /different columns/);
    });
  });

  describe('segment migration', () => {
    const before = new Map([
      ['a', 'Champions'],
      ['b', 'Champions'],
      ['c', 'Loyal'],
      ['d', 'Lost'],
      ['e', 'Loyal'],
    ]);
    const after = new Map([
      ['a', 'Champions'],
      ['b', 'Loyal'],
      ['c', 'Loyal'],
      ['e', 'At risk'],
      ['f', 'New'],
      ['g', 'Champions'],
    ]);
    const migration = segmentMigration(before, after, RFM_SEGMENTS);

    it('counts moves, arrivals and departures', () => {
      const cell = (from: string, to: string) => migration.counts[migration.from.indexOf(from)][migration.to.indexOf(to)];
      expect(cell('Champions', 'Champions')).to.equal(1);
      expect(cell('Champions', 'Loyal')).to.equal(1);
      expect(cell('Loyal', 'Loyal')).to.equal(1);
      expect(cell('Loyal', 'At risk')).to.equal(1);
      expect(cell('Lost', GONE_CUSTOMERS)).to.equal(1);
      expect(cell(NEW_CUSTOMERS, 'New')).to.equal(1);
      expect(cell(NEW_CUSTOMERS, 'Champions')).to.equal(1);
      expect(cell(NEW_CUSTOMERS, GONE_CUSTOMERS)).to.equal(0);
    });

    it('sums to the customers in either map, with row totals matching each earlier segment', () => {
      const total = migration.counts.flat().reduce((a, b) => a + b, 0);
      expect(total).to.equal(7);
      expect(migration.customers).to.equal(7);
      migration.from.forEach((label, row) => {
        const rowTotal = migration.counts[row].reduce((a, b) => a + b, 0);
        const expected = label === NEW_CUSTOMERS ? 2 : [...before.values()].filter((s) => s === label).length;
        expect(rowTotal, label).to.equal(expected);
      });
      // Column totals are the later date's segment sizes (plus the departures).
      migration.to.forEach((label, column) => {
        const columnTotal = migration.counts.reduce((sum, row) => sum + row[column], 0);
        const expected = label === GONE_CUSTOMERS ? 1 : [...after.values()].filter((s) => s === label).length;
        expect(columnTotal, label).to.equal(expected);
      });
    });

    it('normalises each row to shares that sum to 1 (0 for empty rows)', () => {
      migration.shares.forEach((row, i) => {
        const sum = row.reduce((a, b) => a + b, 0);
        const empty = migration.counts[i].every((n) => n === 0);
        expect(sum, migration.from[i]).to.be.closeTo(empty ? 0 : 1, 1e-12);
      });
      expect(migration.shares[migration.from.indexOf('Champions')][migration.to.indexOf('Loyal')]).to.equal(0.5);
    });

    it('lists the given segment order first, then others alphabetically, then the reserved labels', () => {
      const other = segmentMigration(
        new Map([
          ['x', 'zeta'],
          ['y', 'Loyal'],
        ]),
        new Map([['x', 'alpha']]),
        ['Loyal'],
      );
      expect(other.from).to.deep.equal(['Loyal', 'alpha', 'zeta', NEW_CUSTOMERS]);
      expect(other.to).to.deep.equal(['Loyal', 'alpha', 'zeta', GONE_CUSTOMERS]);
      expect(() => segmentMigration(new Map([['x', NEW_CUSTOMERS]]), new Map())).to.throw(ValidationError);
    });
  });
});

/** The segment the model gives a customer with these exact scores, found through a one-row matrix. */
function segmentFor(model: RfmModel, r: number, f: number, m: number): string {
  const cuts = model.cuts;
  // A value just inside each quintile: below the first cut for 1, just above cut k - 1 for k.
  const inside = (c: number[], score: number) => (score === 1 ? c[0] - 1 : c[score - 2] + 1e-3);
  const recency = inside(cuts.recency, 6 - r);
  const row = toMatrix([{ id: 'x', values: [recency, inside(cuts.frequency, f), inside(cuts.monetary, m), 0, 0] }]);
  const [score] = model.predict(row);
  expect([score.r, score.f, score.m]).to.deep.equal([r, f, m]);
  return score.segment;
}

function mostCommonId(ids: Int32Array, matrix: FeatureMatrix, groupOf: Map<string, string>, group: string): number {
  const counts = new Map<number, number>();
  matrix.customerIds.forEach((id, i) => {
    if (groupOf.get(id) === group) counts.set(ids[i], (counts.get(ids[i]) ?? 0) + 1);
  });
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
}
