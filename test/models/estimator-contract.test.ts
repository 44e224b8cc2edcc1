import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { NotFittedError } from '../../lib/errors';
import { cdnowDir } from '../../lib/project-root';
import { mulberry32 } from '../../lib/random';
import { IsotonicCalibrator, PlattCalibrator } from '../../models/calibration';
import { ChurnModel, type ChurnCalibrationSet, type ChurnTrainingSet } from '../../models/churn/model';
import { BetaGeoModel } from '../../models/clv/bgnbd';
import type { CustomerSummary } from '../../models/clv/calibration-summary';
import { cdnowCalibrationSummary } from '../../models/clv/cdnow';
import { GammaGammaModel } from '../../models/clv/gamma-gamma';
import { GbmClv } from '../../models/clv/gbm-clv';
import { ProbabilisticClv, type ClvHistory } from '../../models/clv/probabilistic-clv';
import { BehaviourEmbedding } from '../../models/embeddings/behaviour';
import type { Envelope, EstimatorClass } from '../../models/estimator';
import { BehaviourClusters } from '../../models/segments/kmeans';
import { RfmModel } from '../../models/segments/rfm';
import { Standardiser } from '../../models/segments/standardiser';
import { XGBoostModel } from '../../models/xgboost';
import { FEATURE_NAMES } from '../../features/catalog';
import type { FeatureMatrix } from '../../features/types';
import { expectValidationError } from '../support/expect-error';
import { FEATURES, syntheticCustomers } from '../support/synthetic-matrix';

/**
 * The contract every fitted thing in models/ keeps (models/estimator.ts), checked on each of them alike: fit returns
 * the estimator itself, a refit replaces the old fit, use before fit is a NotFittedError, a JSON round trip predicts
 * bit for bit the same, and the envelope refuses another format or version, naming the field.
 */
interface ContractCase<E extends { toJSON(): Envelope }, Data> {
  name: string;
  type: EstimatorClass<E>;
  make(): E;
  /** Two training sets different enough that fits on them predict differently. */
  data: [Data, Data];
  fit(estimator: E, data: Data): unknown;
  predict(estimator: E, data: Data): unknown;
  /** Frees native handles (XGBoost boosters). */
  dispose?(estimator: E): void;
}

const formats: string[] = [];

function checkContract<E extends { toJSON(): Envelope }, Data>(c: ContractCase<E, Data>): void {
  describe(c.name, () => {
    const [first, second] = c.data;
    const made: E[] = [];
    const make = (): E => {
      const estimator = c.make();
      made.push(estimator);
      return estimator;
    };
    const fitted = (data: Data): E => {
      const estimator = make();
      c.fit(estimator, data);
      return estimator;
    };
    after(() => made.forEach((estimator) => c.dispose?.(estimator)));

    it('fit returns the same, now fitted, estimator', () => {
      const estimator = make();
      expect(c.fit(estimator, first)).to.equal(estimator);
      expect(() => c.predict(estimator, second)).not.to.throw();
    });

    it('a refit on other data replaces the old fit', () => {
      const estimator = fitted(first);
      const beforeRefit = c.predict(estimator, second);
      const fresh = c.predict(fitted(second), second);
      expect(beforeRefit, 'fits on the two data sets predict alike, so a refit could not be told apart').not.to.deep.equal(fresh);
      c.fit(estimator, second);
      expect(c.predict(estimator, second)).to.deep.equal(fresh);
    });

    it('throws NotFittedError when used or serialised before fit', () => {
      expect(() => c.predict(make(), first)).to.throw(NotFittedError);
      expect(() => make().toJSON()).to.throw(NotFittedError);
    });

    it('predicts bit for bit the same after a JSON round trip, from an envelope with format and version', () => {
      const estimator = fitted(first);
      const json = JSON.parse(JSON.stringify(estimator.toJSON())) as Envelope;
      expect(json.format)
        .to.be.a('string')
        .and.match(/^foresight\./);
      expect(Number.isInteger(json.version) && json.version >= 1).to.equal(true);
      formats.push(json.format);
      const restored = c.type.fromJSON(json);
      made.push(restored);
      expect(c.predict(restored, second)).to.deep.equal(c.predict(estimator, second));
    });

    it('refuses another format, another version or no envelope with a ValidationError naming the field', () => {
      const json = JSON.parse(JSON.stringify(fitted(first).toJSON())) as Envelope & Record<string, unknown>;
      expectValidationError(() => c.type.fromJSON({ ...json, format: 'foresight.something-else' }), 'format');
      expectValidationError(() => c.type.fromJSON({ ...json, version: json.version + 1 }), 'version');
      const { format: _format, ...unwrapped } = json;
      expectValidationError(() => c.type.fromJSON(unwrapped), 'format');
      expectValidationError(() => c.type.fromJSON('not json'), 'format');
    });
  });
}

// Calibrators: scores with outcomes that follow them more (first) or less (second) steeply.
function calibrationData(seed: number, steepness: number): { scores: number[]; labels: number[] } {
  const random = mulberry32(seed);
  const scores = Array.from({ length: 300 }, () => random());
  return { scores, labels: scores.map((score) => (random() < score ** steepness ? 1 : 0)) };
}

// The churn model: the catalog's columns, churn driven by recency against the usual gap.
function churnData(seed: number): { train: ChurnTrainingSet; calibration: ChurnCalibrationSet } {
  const random = mulberry32(seed);
  const rows = (nrow: number) => {
    const ncol = FEATURE_NAMES.length;
    const X = new Float32Array(nrow * ncol);
    const y = new Uint8Array(nrow);
    for (let i = 0; i < nrow; i++) {
      for (let j = 0; j < ncol; j++) X[i * ncol + j] = Math.round(random() * 100);
      const recency = random() * 400;
      const gap = 20 + random() * 100;
      X[i * ncol + FEATURE_NAMES.indexOf('recency_days')] = recency;
      X[i * ncol + FEATURE_NAMES.indexOf('gap_mean_days')] = gap;
      y[i] = random() < 1 / (1 + Math.exp(-(recency / gap - 2))) ? 1 : 0;
    }
    return { X, nrow, ncol, y };
  };
  return { train: { ...rows(400), featureNames: [...FEATURE_NAMES] }, calibration: rows(200) };
}

// XGBoost and the GBM CLV: the synthetic customers' behaviour, with a revenue that depends on it.
function revenueOf(matrix: FeatureMatrix, seed: number): Float32Array {
  const random = mulberry32(seed);
  const spend = FEATURES.indexOf('spend_365d');
  const recency = FEATURES.indexOf('recency_days');
  return Float32Array.from({ length: matrix.nrow }, (_, i) => {
    const row = i * matrix.ncol;
    return random() < Math.exp(-matrix.X[row + recency] / 200) ? matrix.X[row + spend] * (0.5 + random()) : 0;
  });
}

const segmentsFirst = syntheticCustomers(11, { perGroup: 40, categoryMix: true }).matrix;
const segmentsSecond = syntheticCustomers(12, { perGroup: 30, categoryMix: true }).matrix;
const behaviour = (matrix: FeatureMatrix): FeatureMatrix => {
  const X = new Float32Array(matrix.nrow * FEATURES.length);
  for (let i = 0; i < matrix.nrow; i++) X.set(matrix.X.subarray(i * matrix.ncol, i * matrix.ncol + FEATURES.length), i * FEATURES.length);
  return { ...matrix, X, ncol: FEATURES.length, featureNames: [...FEATURES] };
};
const gbmData = (matrix: FeatureMatrix, seed: number) => ({ features: behaviour(matrix), revenue: revenueOf(behaviour(matrix), seed) });

// The CLV models: CDNOW's 1/10 sample (weeks), odd and even customers.
const cdnow = cdnowCalibrationSummary(fs.readFileSync(path.join(cdnowDir, 'CDNOW_sample.txt'), 'utf8'), 'sample');
const cdnowHalves: [CustomerSummary[], CustomerSummary[]] = [cdnow.filter((_, i) => i % 2 === 0), cdnow.filter((_, i) => i % 2 === 1)];
const repeatBuyers = (rows: CustomerSummary[]) => rows.filter((c) => c.frequency > 0 && c.meanRepeatValue > 0);
const inDays = (rows: CustomerSummary[]): ClvHistory => ({
  asOf: new Date('1997-09-30T00:00:00Z'),
  frequency: rows.map((c) => c.frequency),
  recency: rows.map((c) => c.recency * 7),
  age: rows.map((c) => c.age * 7),
  meanRepeatValue: rows.map((c) => c.meanRepeatValue),
  expectedReturnShare: rows.map((c, i) => (i % 3) / 10),
});

describe('models/estimator contract', () => {
  checkContract({
    name: 'IsotonicCalibrator',
    type: IsotonicCalibrator,
    make: () => new IsotonicCalibrator(),
    data: [calibrationData(1, 2), calibrationData(2, 0.5)],
    fit: (calibrator, d) => calibrator.fit(d.scores, d.labels),
    predict: (calibrator, d) => calibrator.predict(d.scores),
  });

  checkContract({
    name: 'PlattCalibrator',
    type: PlattCalibrator,
    make: () => new PlattCalibrator(),
    data: [calibrationData(1, 2), calibrationData(2, 0.5)],
    fit: (calibrator, d) => calibrator.fit(d.scores, d.labels),
    predict: (calibrator, d) => calibrator.predict(d.scores),
  });

  checkContract({
    name: 'ChurnModel',
    type: ChurnModel,
    make: () => new ChurnModel({ xgboost: { rounds: 20, earlyStoppingRounds: 5 } }),
    data: [churnData(1), churnData(2)],
    fit: (model, d) => model.fit(d.train, d.calibration),
    predict: (model, d) => [model.predictProba(d.calibration.X, d.calibration.nrow), model.explain(d.calibration.X, d.calibration.nrow)],
    dispose: (model) => model.dispose(),
  });

  checkContract({
    name: 'XGBoostModel',
    type: XGBoostModel,
    make: () => new XGBoostModel({ objective: 'reg:squarederror', rounds: 10 }),
    data: [gbmData(segmentsFirst, 1), gbmData(segmentsSecond, 2)],
    fit: (model, d) => model.fit(d.features.X, d.features.nrow, d.features.ncol, d.revenue),
    predict: (model, d) => model.predict(d.features.X, d.features.nrow),
    dispose: (model) => model.dispose(),
  });

  checkContract({
    name: 'GbmClv',
    type: GbmClv,
    make: () => new GbmClv({ horizonDays: 365, maxRounds: 20 }),
    data: [gbmData(segmentsFirst, 1), gbmData(segmentsSecond, 2)],
    fit: (model, d) => model.fit(d.features, d.revenue),
    predict: (model, d) => model.predict(d.features),
    dispose: (model) => model.dispose(),
  });

  checkContract({
    name: 'BetaGeoModel',
    type: BetaGeoModel,
    make: () => new BetaGeoModel(),
    data: cdnowHalves,
    fit: (model, rows) =>
      model.fit(
        rows.map((c) => c.frequency),
        rows.map((c) => c.recency),
        rows.map((c) => c.age),
      ),
    predict: (model, rows) => {
      const [x, tx, T] = [rows.map((c) => c.frequency), rows.map((c) => c.recency), rows.map((c) => c.age)];
      return [model.conditionalExpectedTransactions(39, x, tx, T), model.probabilityAlive(x, tx, T)];
    },
  });

  checkContract({
    name: 'GammaGammaModel',
    type: GammaGammaModel,
    make: () => new GammaGammaModel(),
    data: [repeatBuyers(cdnowHalves[0]), repeatBuyers(cdnowHalves[1])],
    fit: (model, rows) =>
      model.fit(
        rows.map((c) => c.frequency),
        rows.map((c) => c.meanRepeatValue),
      ),
    predict: (model, rows) =>
      model.conditionalExpectedAverageValue(
        rows.map((c) => c.frequency),
        rows.map((c) => c.meanRepeatValue),
      ),
  });

  checkContract({
    name: 'ProbabilisticClv',
    type: ProbabilisticClv,
    make: () => new ProbabilisticClv(),
    data: [inDays(cdnowHalves[0]), inDays(cdnowHalves[1])],
    fit: (model, history) => model.fit(history),
    predict: (model, history) => model.predict(history),
  });

  checkContract({
    name: 'RfmModel',
    type: RfmModel,
    make: () => new RfmModel(),
    data: [segmentsFirst, segmentsSecond],
    fit: (model, matrix) => model.fit(matrix),
    predict: (model, matrix) => model.predict(matrix),
  });

  checkContract({
    name: 'BehaviourClusters',
    type: BehaviourClusters,
    make: () => new BehaviourClusters({ k: 4, restarts: 2 }),
    data: [segmentsFirst, segmentsSecond],
    fit: (model, matrix) => model.fit(matrix),
    // The ids alone are stable across refits by design; the clusters (centroids, sizes) are what a fit learned.
    predict: (model, matrix) => ({ ids: model.predict(matrix), clusters: model.clusters }),
  });

  checkContract({
    name: 'Standardiser',
    type: Standardiser,
    make: () => new Standardiser(FEATURES, ['orders_365d', 'spend_365d']),
    data: [segmentsFirst, segmentsSecond],
    fit: (standardiser, matrix) => standardiser.fit(matrix),
    predict: (standardiser, matrix) => standardiser.transform(matrix),
  });

  checkContract({
    name: 'BehaviourEmbedding',
    type: BehaviourEmbedding,
    make: () => new BehaviourEmbedding(),
    data: [segmentsFirst, segmentsSecond],
    fit: (embedding, matrix) => embedding.fit(matrix),
    predict: (embedding, matrix) => embedding.transform(matrix),
  });

  // A suite of its own so that it runs after the ones above.
  describe('formats', () => {
    it('give every estimator a format of its own', () => {
      expect(formats).to.have.length(12);
      expect(new Set(formats).size).to.equal(formats.length);
    });
  });
});
