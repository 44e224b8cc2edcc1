import { expect } from 'chai';
import { ModelError, NotFittedError } from '../../lib/errors';
import { mulberry32 } from '../../lib/random';
import { calibratorFromJSON, createCalibrator, IsotonicCalibrator, PlattCalibrator } from '../../models/calibration';
import { expectedCalibrationError } from '../../models/evaluation/classification';
import { expectValidationError } from '../support/expect-error';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

/** Overconfident probabilities: the truth is σ(logit(p) / 2), much closer to ½ than p claims. */
function overconfidentSample(rows: number, seed: number) {
  const random = mulberry32(seed);
  const probabilities = new Float64Array(rows);
  const labels = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    probabilities[i] = 0.001 + 0.998 * random();
    labels[i] = random() < sigmoid(logit(probabilities[i]) / 2) ? 1 : 0;
  }
  return { probabilities, labels };
}

function isNonDecreasing(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] < values[i - 1]) return false;
  return true;
}

describe('calibration: isotonic', () => {
  const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
  const labels = [0, 1, 0, 0, 1, 1];

  it('pools adjacent violators and keeps only the ends of each flat run', () => {
    // The violators 1, 0, 0 pool to ⅓; the interior point 0.3 of that run is dropped.
    const calibrator = new IsotonicCalibrator().fit(scores, labels);
    const { scores: knots, values } = calibrator.thresholds;
    expect(knots).to.deep.equal([0.1, 0.2, 0.4, 0.5, 0.6]);
    expect(values[0]).to.equal(0);
    expect(values[1]).to.be.closeTo(1 / 3, 1e-15);
    expect(values[2]).to.be.closeTo(1 / 3, 1e-15);
    expect(values.slice(3)).to.deep.equal([1, 1]);
  });

  it('interpolates linearly between thresholds and clips outside them by default', () => {
    const calibrator = new IsotonicCalibrator().fit(scores, labels);
    const predicted = calibrator.predict([0.15, 0.3, 0.45, 0.05, 0.9]);
    expect(predicted[0]).to.be.closeTo(1 / 6, 1e-12);
    expect(predicted[1]).to.be.closeTo(1 / 3, 1e-12);
    expect(predicted[2]).to.be.closeTo(2 / 3, 1e-12);
    expect(predicted[3]).to.equal(0);
    expect(predicted[4]).to.equal(1);
  });

  it("gives NaN or a ValidationError out of bounds when asked to, like scikit-learn's out_of_bounds", () => {
    const nan = new IsotonicCalibrator({ outOfBounds: 'nan' }).fit(scores, labels);
    expect(Array.from(nan.predict([0.05, 0.35]))).to.satisfy(([low, inside]: number[]) => Number.isNaN(low) && inside > 0);
    const raise = new IsotonicCalibrator({ outOfBounds: 'raise' }).fit(scores, labels);
    expectValidationError(() => raise.predict([0.2, 0.7]), 'scores');
  });

  it('pools tied scores into one point before fitting', () => {
    const calibrator = new IsotonicCalibrator().fit([0.5, 0.5, 0.5, 0.2], [1, 0, 1, 0]);
    const { scores: knots, values } = calibrator.thresholds;
    expect(knots).to.deep.equal([0.2, 0.5]);
    expect(values[0]).to.equal(0);
    expect(values[1]).to.be.closeTo(2 / 3, 1e-15);
  });

  it('treats a weight of 2 as a repeated row and ignores rows of weight 0', () => {
    const weighted = new IsotonicCalibrator().fit([0.1, 0.2, 0.3, 0.9], [1, 0, 0, 1], [2, 1, 1, 0]);
    const repeated = new IsotonicCalibrator().fit([0.1, 0.1, 0.2, 0.3], [1, 1, 0, 0]);
    expect(weighted.thresholds).to.deep.equal(repeated.thresholds);
  });

  it('clips fitted values to [yMin, yMax]', () => {
    const calibrator = new IsotonicCalibrator({ yMin: 0.05, yMax: 0.9 }).fit(scores, labels);
    expect(Math.min(...calibrator.thresholds.values)).to.equal(0.05);
    expect(Math.max(...calibrator.thresholds.values)).to.equal(0.9);
  });

  it('is monotone and removes most of the calibration error on a fresh sample', () => {
    const train = overconfidentSample(50_000, 11);
    const test = overconfidentSample(50_000, 12);
    const calibrator = new IsotonicCalibrator().fit(train.probabilities, train.labels);
    expect(isNonDecreasing(calibrator.thresholds.values)).to.equal(true);
    const grid = Float64Array.from({ length: 1001 }, (_, i) => i / 1000);
    expect(isNonDecreasing(calibrator.predict(grid))).to.equal(true);

    const before = expectedCalibrationError(test.labels, test.probabilities);
    const after = expectedCalibrationError(test.labels, calibrator.predict(test.probabilities));
    expect(before).to.be.above(0.08);
    expect(after).to.be.below(0.02);
  });

  it('rejects bad options and bad inputs, and refuses to predict before fitting', () => {
    expectValidationError(() => new IsotonicCalibrator({ yMin: 1, yMax: 0 }), 'yMax');
    expectValidationError(() => new IsotonicCalibrator({ outOfBounds: 'wrap' as 'clip' }), 'outOfBounds');
    expectValidationError(() => new IsotonicCalibrator().fit([0.1, 0.2], [0, 2]), 'labels');
    expectValidationError(() => new IsotonicCalibrator().fit([0.1, 0.2], [0, 1], [0, 0]), 'weights');
    expect(() => new IsotonicCalibrator().predict([0.5])).to.throw(ModelError, /not fitted/);
  });
});

describe('calibration: Platt', () => {
  it('recovers a known slope and intercept on raw scores', () => {
    const random = mulberry32(21);
    const rows = 40_000;
    const scores = new Float64Array(rows);
    const labels = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      scores[i] = 6 * random() - 3;
      labels[i] = random() < sigmoid(2 * scores[i] - 1) ? 1 : 0;
    }
    const { slope, intercept } = new PlattCalibrator({ input: 'score' }).fit(scores, labels).coefficients;
    expect(slope).to.be.closeTo(2, 0.1);
    expect(intercept).to.be.closeTo(-1, 0.1);
  });

  it('finds slope ½ on the logit of overconfident probabilities, and so removes their calibration error', () => {
    const train = overconfidentSample(50_000, 31);
    const test = overconfidentSample(50_000, 32);
    const calibrator = new PlattCalibrator().fit(train.probabilities, train.labels);
    expect(calibrator.coefficients.slope).to.be.closeTo(0.5, 0.03);
    expect(calibrator.coefficients.intercept).to.be.closeTo(0, 0.03);
    expect(expectedCalibrationError(test.labels, calibrator.predict(test.probabilities))).to.be.below(0.01);
  });

  it("stays finite on separable classes, thanks to Platt's smoothed targets", () => {
    const calibrator = new PlattCalibrator({ input: 'score' }).fit([-2, -1, 1, 2], [0, 0, 1, 1]);
    const { slope, intercept } = calibrator.coefficients;
    expect(Number.isFinite(slope) && slope > 0).to.equal(true);
    expect(intercept).to.be.closeTo(0, 1e-9);
    // Targets are ¼ and ¾ with two rows of each class, so the extreme scores are not pushed to 0 and 1.
    const [low, , , high] = calibrator.predict([-2, -1, 1, 2]);
    expect(low).to.be.above(0.05);
    expect(high).to.be.below(0.95);
  });

  it('treats a weight of 2 as a repeated row', () => {
    const weighted = new PlattCalibrator({ input: 'score' }).fit([0, 1, 2, 3], [0, 1, 0, 1], [2, 1, 1, 3]);
    const repeated = new PlattCalibrator({ input: 'score' }).fit([0, 0, 1, 2, 3, 3, 3], [0, 0, 1, 0, 1, 1, 1]);
    expect(weighted.coefficients.slope).to.be.closeTo(repeated.coefficients.slope, 1e-6);
    expect(weighted.coefficients.intercept).to.be.closeTo(repeated.coefficients.intercept, 1e-6);
  });

  it('rejects constant scores, probabilities outside [0, 1] for the logit, and predicting before fitting', () => {
    expectValidationError(() => new PlattCalibrator().fit([0.3, 0.3], [0, 1]), 'scores');
    expectValidationError(() => new PlattCalibrator().fit([0.3, 1.5], [0, 1]), 'scores');
    expectValidationError(() => new PlattCalibrator({ maxIterations: 0 }), 'maxIterations');
    expect(() => new PlattCalibrator().predict([0.5])).to.throw(ModelError, /not fitted/);
  });
});

describe('calibration: factory and JSON', () => {
  const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
  const labels = [0, 1, 0, 0, 1, 1, 1];
  const probe = [0, 0.15, 0.33, 0.5, 0.65, 1];

  it('creates calibrators by name and rejects unknown names', () => {
    expect(createCalibrator('isotonic', { outOfBounds: 'nan' }).options.outOfBounds).to.equal('nan');
    expect(createCalibrator('platt')).to.be.instanceOf(PlattCalibrator);
    expectValidationError(() => createCalibrator('beta'), 'method');
  });

  for (const method of ['isotonic', 'platt'] as const) {
    it(`round-trips a fitted ${method} calibrator through JSON`, () => {
      const fitted = createCalibrator(method).fit(scores, labels);
      const restored = calibratorFromJSON(JSON.parse(JSON.stringify(fitted)));
      expect(restored.toJSON()).to.deep.equal(fitted.toJSON());
      expect(Array.from(restored.predict(probe))).to.deep.equal(Array.from(fitted.predict(probe)));
    });

    it(`refuses to serialise an unfitted ${method} calibrator`, () => {
      expect(() => createCalibrator(method).toJSON()).to.throw(NotFittedError);
    });
  }

  it('names the bad field of malformed JSON', () => {
    expectValidationError(() => calibratorFromJSON({ format: 'foresight.logistic-calibrator', version: 1 }), 'format');
    expectValidationError(() => calibratorFromJSON(null), 'format');
    const isotonic = new IsotonicCalibrator().fit(scores, labels).toJSON();
    expectValidationError(
      () => IsotonicCalibrator.fromJSON({ ...isotonic, thresholds: { scores: [0.2, 0.1], values: [0, 1] } }),
      'thresholds.scores',
    );
    expectValidationError(
      () =>
        PlattCalibrator.fromJSON({
          format: 'foresight.platt-calibrator',
          version: 1,
          options: { input: 'logit', maxIterations: 100 },
          coefficients: { slope: 'x', intercept: 0 },
        }),
      'coefficients.slope',
    );
  });
});
