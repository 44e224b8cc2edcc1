// The XGBoost binding against the real libxgboost (no mocks). The Python interchange checks use Debian's
// /usr/bin/python3 with python3-xgboost, built on the same library; they skip when it is not installed.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DependencyError, ModelError, ValidationError } from '../../lib/errors';
import { mulberry32 } from '../../lib/random';
import { Booster, DMatrix, XGBoostModel, isMaximisedMetric, loadXGBoost } from '../../models/xgboost';

const FIXTURES = join(__dirname, '..', 'fixtures', 'xgboost');
const DEBIAN_PYTHON = '/usr/bin/python3';

interface Dataset {
  X: Float32Array;
  y: Float32Array;
  nrow: number;
  ncol: number;
}

/** Uniform features in [-1, 1); label 1 when x0 + x1 > 0, or a coin flip when `noiseOnly`. */
function makeDataset(nrow: number, ncol: number, seed: number, noiseOnly = false): Dataset {
  const random = mulberry32(seed);
  const X = new Float32Array(nrow * ncol);
  const y = new Float32Array(nrow);
  for (let row = 0; row < nrow; row++) {
    for (let column = 0; column < ncol; column++) X[row * ncol + column] = random() * 2 - 1;
    y[row] = noiseOnly ? Number(random() < 0.5) : Number(X[row * ncol] + X[row * ncol + 1] > 0);
  }
  return { X, y, nrow, ncol };
}

/** Index of the first value whose bits differ (-0 vs 0 and NaN payloads included), or -1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  const aBits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const bBits = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return aBits.findIndex((bits, index) => bits !== bBits[index]);
}

function expectBitIdentical(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).to.equal(expected.length);
  const index = firstBitDifference(actual, expected);
  expect(index).to.equal(-1, `first difference at ${index}: ${actual[index]} vs ${expected[index]}`);
}

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

function errorFrom(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error to be thrown');
}

/** Why Python interchange cannot be checked here, or undefined when it can. */
function pythonXGBoostUnavailable(): string | undefined {
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import xgboost'], { encoding: 'utf8' });
  if (probe.error) return `${DEBIAN_PYTHON} cannot run (${probe.error.message})`;
  if (probe.status !== 0) return `${DEBIAN_PYTHON} cannot import xgboost (apt-get install python3-xgboost)`;
  return undefined;
}

// Reads {modelPath, nrow, ncol, features} on stdin; writes Python's best_iteration and float32
// predictions as little-endian bytes in base64, so the comparison is of bits, not of printed decimals.
const PYTHON_PREDICT = `
import base64, json, sys
import numpy as np
import xgboost as xgb
request = json.load(sys.stdin)
booster = xgb.Booster(model_file=request["modelPath"])
best = booster.attr("best_iteration")
features = np.array([np.nan if v is None else v for v in request["features"]], dtype=np.float64)
data = xgb.DMatrix(features.astype(np.float32).reshape(request["nrow"], request["ncol"]), missing=np.nan)
end = 0 if best is None else int(best) + 1
predictions = booster.predict(data, iteration_range=(0, end)).astype("<f4")
json.dump({"bestIteration": None if best is None else int(best),
           "predictions": base64.b64encode(predictions.tobytes()).decode()}, sys.stdout)
`;

describe('models/xgboost', function () {
  describe('library', function () {
    it('loads libxgboost 1.7.x and memoises it per path', function () {
      const library = loadXGBoost();
      expect(library.version()).to.include({ major: 1, minor: 7 });
      expect(loadXGBoost()).to.equal(library);
    });

    it('explains how to install libxgboost when it is missing', function () {
      const error = errorFrom(() => loadXGBoost('/nonexistent/libxgboost.so.0'));
      expect(error).to.be.instanceOf(DependencyError);
      expect(error.message).to.contain('apt-get install libxgboost0').and.to.contain('XGBOOST_LIBRARY_PATH');
    });

    it('takes the path from XGBOOST_LIBRARY_PATH', function () {
      const previous = process.env.XGBOOST_LIBRARY_PATH;
      process.env.XGBOOST_LIBRARY_PATH = '/nonexistent/from-env/libxgboost.so';
      try {
        expect(errorFrom(() => loadXGBoost()).message).to.contain('/nonexistent/from-env/libxgboost.so');
      } finally {
        if (previous === undefined) delete process.env.XGBOOST_LIBRARY_PATH;
        else process.env.XGBOOST_LIBRARY_PATH = previous;
      }
    });
  });

  describe('DMatrix', function () {
    it('rejects a Float64Array, naming the parameter', function () {
      const error = errorFrom(() => new DMatrix(new Float64Array(6) as unknown as Float32Array, 3, 2));
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).field).to.equal('data');
      expect(error.message).to.contain('Float32Array').and.to.contain('Float64Array');

      const label = errorFrom(() => new DMatrix(new Float32Array(6), 3, 2, { label: [0, 1, 0] as never }));
      expect((label as ValidationError).field).to.equal('label');
    });

    it('rejects data whose length is not nrow × ncol', function () {
      const error = errorFrom(() => new DMatrix(new Float32Array(5), 3, 2));
      expect(error).to.be.instanceOf(ValidationError);
      expect(error.message).to.contain('3 × 2');
    });

    it('frees idempotently and refuses use after free', function () {
      const matrix = new DMatrix(new Float32Array(6), 3, 2);
      matrix.free();
      matrix.free();
      expect(matrix.isFreed).to.equal(true);
      expect(() => matrix.setLabel(new Float32Array(3))).to.throw(ModelError, /freed/);
    });
  });

  describe('Booster', function () {
    const train = makeDataset(400, 4, 1);
    const validation = makeDataset(200, 4, 2);

    function withMatrices<T>(action: (dtrain: DMatrix, dvalidation: DMatrix) => T): T {
      const dtrain = new DMatrix(train.X, train.nrow, train.ncol, { label: train.y });
      try {
        const dvalidation = new DMatrix(validation.X, validation.nrow, validation.ncol, { label: validation.y });
        try {
          return action(dtrain, dvalidation);
        } finally {
          dvalidation.free();
        }
      } finally {
        dtrain.free();
      }
    }

    it('learns a separable problem: high AUC, low logloss', function () {
      withMatrices((dtrain, dvalidation) => {
        const booster = Booster.create({ objective: 'binary:logistic', eval_metric: ['logloss', 'auc'], seed: 0, nthread: 2 }, [
          dtrain,
          dvalidation,
        ]);
        try {
          const progress: number[] = [];
          const summary = booster.train(dtrain, {
            rounds: 50,
            evalSets: [{ name: 'validation', data: dvalidation }],
            onIteration: (evaluation) => progress.push(evaluation.iteration),
          });
          expect(progress).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
          const last = summary.history[summary.history.length - 1].metrics;
          expect(last.map((m) => `${m.dataset}-${m.metric}`)).to.deep.equal(['validation-logloss', 'validation-auc']);
          expect(last[0].value).to.be.below(0.15);
          expect(last[1].value).to.be.above(0.99);
          expect(booster.bestIteration).to.equal(undefined);
        } finally {
          booster.free();
        }
      });
    });

    it('stops early on a minimised metric and predicts with the best iteration', function () {
      const noise = makeDataset(300, 4, 3, true);
      const dtrain = new DMatrix(noise.X, noise.nrow, noise.ncol, { label: noise.y });
      const dvalidation = new DMatrix(validation.X, validation.nrow, validation.ncol, {
        label: makeDataset(200, 4, 4, true).y,
      });
      const booster = Booster.create({ objective: 'binary:logistic', eval_metric: 'logloss', seed: 0, nthread: 2 }, [dtrain, dvalidation]);
      try {
        const summary = booster.train(dtrain, {
          rounds: 200,
          evalSets: [{ name: 'validation', data: dvalidation }],
          earlyStoppingRounds: 5,
        });
        const losses = summary.history.map((entry) => entry.metrics[0].value);
        const best = losses.indexOf(Math.min(...losses));
        expect(summary.rounds).to.be.below(200);
        expect(summary.bestIteration).to.equal(best);
        expect(summary.rounds).to.equal(best + 1 + 5);
        expect(booster.bestIteration).to.equal(best);
        expect(booster.bestScore).to.equal(losses[best]);
        expect(booster.boostedRounds()).to.equal(summary.rounds);

        const byDefault = booster.predict(dvalidation).values;
        expectBitIdentical(byDefault, booster.predict(dvalidation, { iterationEnd: best + 1 }).values);
        const allTrees = booster.predict(dvalidation, { iterationEnd: 0 }).values;
        expect(firstBitDifference(byDefault, allTrees)).to.not.equal(-1, 'all trees should predict differently');
      } finally {
        booster.free();
        dvalidation.free();
        dtrain.free();
      }
    });

    it('maximises AUC-like metrics when stopping early', function () {
      expect(['auc', 'aucpr', 'map@5', 'ndcg'].every(isMaximisedMetric)).to.equal(true);
      expect(['logloss', 'error', 'rmse', 'mape'].some(isMaximisedMetric)).to.equal(false);

      const noise = makeDataset(300, 4, 5, true);
      withMatrices((_, dvalidation) => {
        const dtrain = new DMatrix(noise.X, noise.nrow, noise.ncol, { label: noise.y });
        const booster = Booster.create({ eval_metric: 'auc', objective: 'binary:logistic', nthread: 2 }, [dtrain]);
        try {
          const summary = booster.train(dtrain, {
            rounds: 200,
            evalSets: [{ name: 'validation', data: dvalidation }],
            earlyStoppingRounds: 5,
          });
          const aucs = summary.history.map((entry) => entry.metrics[0].value);
          expect(summary.bestIteration).to.equal(aucs.indexOf(Math.max(...aucs)));
        } finally {
          booster.free();
          dtrain.free();
        }
      });
    });

    it('returns SHAP contributions whose rows sum to the margin', function () {
      withMatrices((dtrain, dvalidation) => {
        const booster = Booster.create({ objective: 'binary:logistic', max_depth: 3, nthread: 2 }, [dtrain]);
        try {
          booster.train(dtrain, { rounds: 20 });
          const margin = booster.predict(dvalidation, { type: 'margin' });
          const contributions = booster.predict(dvalidation, { type: 'contributions' });
          expect(margin.shape).to.deep.equal([validation.nrow]);
          expect(contributions.shape).to.deep.equal([validation.nrow, validation.ncol + 1]);
          const width = validation.ncol + 1;
          for (let row = 0; row < validation.nrow; row++) {
            let sum = 0;
            for (let column = 0; column < width; column++) sum += contributions.values[row * width + column];
            expect(sum).to.be.closeTo(margin.values[row], 1e-4);
          }
        } finally {
          booster.free();
        }
      });
    });

    it("puts XGBoost's own error text into the thrown ModelError", function () {
      withMatrices((dtrain) => {
        const booster = Booster.create({ objective: 'nonsense' }, [dtrain]);
        try {
          const error = errorFrom(() => booster.train(dtrain, { rounds: 1 }));
          expect(error).to.be.instanceOf(ModelError);
          expect(error.message).to.contain('Unknown objective function: `nonsense`');
          expect(error.message).not.to.contain('Stack trace');
          expect((error as ModelError).details?.xgboostError).to.contain('Unknown objective function');
        } finally {
          booster.free();
        }
      });
    });

    it('keeps the best iteration through saveJson/loadJson', function () {
      const noise = makeDataset(300, 4, 3, true);
      const dtrain = new DMatrix(noise.X, noise.nrow, noise.ncol, { label: noise.y });
      const dvalidation = new DMatrix(validation.X, validation.nrow, validation.ncol, {
        label: makeDataset(200, 4, 4, true).y,
      });
      const booster = Booster.create({ objective: 'binary:logistic', eval_metric: 'logloss', nthread: 2 }, [dtrain]);
      try {
        const summary = booster.train(dtrain, {
          rounds: 100,
          evalSets: [{ name: 'validation', data: dvalidation }],
          earlyStoppingRounds: 3,
        });
        // Only then do "all trees" and "up to the best iteration" predict differently.
        expect(summary.bestIteration).to.be.below(summary.rounds - 1);
        const loaded = Booster.loadJson(booster.saveJson());
        try {
          expect(loaded.bestIteration).to.equal(summary.bestIteration);
          expectBitIdentical(loaded.predict(dvalidation).values, booster.predict(dvalidation).values);
        } finally {
          loaded.free();
        }
      } finally {
        booster.free();
        dvalidation.free();
        dtrain.free();
      }
    });

    it('frees idempotently and refuses use after free', function () {
      const booster = Booster.loadJson(readFileSync(join(FIXTURES, 'python-model.json'), 'utf8'));
      booster.free();
      booster.free();
      expect(() => booster.saveJson()).to.throw(ModelError, /freed/);
    });
  });

  describe('XGBoostModel', function () {
    const train = makeDataset(400, 4, 11);
    const validation = makeDataset(200, 4, 12);
    const options = { rounds: 30, seed: 42, nthread: 2, evalMetric: 'logloss', params: { max_depth: 3 } };

    it('fits, predicts probabilities and explains them', function () {
      const model = new XGBoostModel(options).fit(train.X, train.nrow, train.ncol, train.y, {
        featureNames: ['recency', 'frequency', 'monetary', 'tenure'],
      });
      try {
        const probabilities = model.predict(validation.X, validation.nrow);
        let correct = 0;
        probabilities.forEach((p, row) => (correct += Number(p > 0.5 === (validation.y[row] === 1))));
        expect(correct / validation.nrow).to.be.above(0.95);
        expect(model.contributions(validation.X, validation.nrow).shape).to.deep.equal([validation.nrow, 5]);
        expect(model.featureNames).to.deep.equal(['recency', 'frequency', 'monetary', 'tenure']);
      } finally {
        model.dispose();
      }
    });

    it("computes XGBoost's approximate contributions from its trees, as libxgboost does, missing values included", function () {
      const model = new XGBoostModel({ ...options, rounds: 60, earlyStoppingRounds: 5 }).fit(train.X, train.nrow, train.ncol, train.y, {
        evalSet: { X: validation.X, nrow: validation.nrow, y: validation.y },
      });
      const rows = Float32Array.from(validation.X, (v, i) => (i % 7 === 3 ? NaN : v));
      const booster = Booster.loadJson(model.toJSON().xgboostModel);
      const data = new DMatrix(rows, validation.nrow, validation.ncol);
      try {
        expect(model.bestIteration).to.be.below(59);
        const native = booster.predict(data, { type: 'approximate-contributions', iterationEnd: model.bestIteration! + 1 });
        const ours = model.approximateContributions(rows, validation.nrow);
        expect(native.shape).to.deep.equal([validation.nrow, validation.ncol + 1]);
        expect(ours.length).to.equal(native.values.length);
        ours.forEach((value, i) => expect(value).to.be.closeTo(native.values[i], 1e-5));
      } finally {
        data.free();
        booster.free();
        model.dispose();
      }
    });

    it('records the best iteration with earlyStoppingRounds', function () {
      const noise = makeDataset(300, 4, 13, true);
      const model = new XGBoostModel({ ...options, rounds: 200, earlyStoppingRounds: 5 });
      try {
        model.fit(noise.X, noise.nrow, noise.ncol, noise.y, {
          evalSet: { X: validation.X, nrow: validation.nrow, y: makeDataset(200, 4, 14, true).y },
        });
        expect(model.evaluationHistory.length).to.be.below(200);
        expect(model.bestIteration).to.equal(model.evaluationHistory.length - 1 - 5);
      } finally {
        model.dispose();
      }
    });

    it('round-trips through toJSON/fromJSON with bit-identical predictions', function () {
      const model = new XGBoostModel({ ...options, earlyStoppingRounds: 5 }).fit(train.X, train.nrow, train.ncol, train.y, {
        evalSet: { X: validation.X, nrow: validation.nrow, y: validation.y },
      });
      const restored = XGBoostModel.fromJSON(JSON.stringify(model));
      try {
        expect(restored.bestIteration).to.equal(model.bestIteration);
        expect(restored.featureNames).to.deep.equal(['f0', 'f1', 'f2', 'f3']);
        expectBitIdentical(restored.predict(validation.X, validation.nrow), model.predict(validation.X, validation.nrow));
        expectBitIdentical(
          restored.contributions(validation.X, validation.nrow).values,
          model.contributions(validation.X, validation.nrow).values,
        );
      } finally {
        restored.dispose();
        model.dispose();
      }
    });

    it('is deterministic: the same seed gives the same model, another seed a different one', function () {
      const sampled = { ...options, params: { max_depth: 3, subsample: 0.7, colsample_bytree: 0.7 } };
      const fitWithSeed = (seed: number): string => {
        const model = new XGBoostModel({ ...sampled, seed }).fit(train.X, train.nrow, train.ncol, train.y);
        try {
          return model.toJSON().xgboostModel;
        } finally {
          model.dispose();
        }
      };
      expect(fitWithSeed(7)).to.equal(fitWithSeed(7));
      expect(fitWithSeed(7)).not.to.equal(fitWithSeed(8));
    });

    it('rejects a Float64Array label, naming the parameter', function () {
      const model = new XGBoostModel(options);
      const error = errorFrom(() => model.fit(train.X, train.nrow, train.ncol, Float64Array.from(train.y) as unknown as Float32Array));
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).field).to.equal('y');
    });

    it('reports an unknown objective with XGBoost’s message', function () {
      const model = new XGBoostModel({ ...options, objective: 'nonsense' });
      expect(() => model.fit(train.X, train.nrow, train.ncol, train.y)).to.throw(ModelError, 'Unknown objective function: `nonsense`');
      expect(model.isFitted).to.equal(false);
    });

    it('refuses to predict after dispose()', function () {
      const model = new XGBoostModel(options).fit(train.X, train.nrow, train.ncol, train.y);
      model.dispose();
      model.dispose();
      expect(() => model.predict(validation.X, validation.nrow)).to.throw(ModelError, /fit\(\) or fromJSON\(\)/);
    });
  });

  describe('interchange with Python xgboost', function () {
    interface FixtureData {
      nrow: number;
      ncol: number;
      features: (number | null)[];
    }
    const data = readFixture<FixtureData>('data.json');
    const features = Float32Array.from(data.features, (value) => (value === null ? Number.NaN : value));

    it('loads a model saved by Python and reproduces its predictions exactly', function () {
      const booster = Booster.loadJson(readFileSync(join(FIXTURES, 'python-model.json'), 'utf8'));
      const matrix = new DMatrix(features, data.nrow, data.ncol);
      try {
        const expected = Float32Array.from(readFixture<number[]>('python-predictions.json'));
        expectBitIdentical(booster.predict(matrix).values, expected);
      } finally {
        matrix.free();
        booster.free();
      }
    });

    it('saves a model that Python loads and predicts with bit-identically', function () {
      const unavailable = pythonXGBoostUnavailable();
      if (unavailable) {
        this.test!.title += ` (skipped: ${unavailable})`;
        this.skip();
      }
      const labels = Float32Array.from(readFixture<{ labels: number[] }>('data.json').labels);
      const half = (data.nrow / 2) * data.ncol;
      const model = new XGBoostModel({ rounds: 100, earlyStoppingRounds: 3, evalMetric: 'logloss', nthread: 2 });
      const directory = mkdtempSync(join(tmpdir(), 'foresight-xgboost-'));
      try {
        model.fit(features.subarray(0, half), data.nrow / 2, data.ncol, labels.subarray(0, data.nrow / 2), {
          evalSet: { X: features.subarray(half), nrow: data.nrow / 2, y: labels.subarray(data.nrow / 2) },
        });
        const modelPath = join(directory, 'model.json');
        writeFileSync(modelPath, model.toJSON().xgboostModel);
        const python = spawnSync(DEBIAN_PYTHON, ['-c', PYTHON_PREDICT], {
          input: JSON.stringify({ modelPath, nrow: data.nrow, ncol: data.ncol, features: data.features }),
          encoding: 'utf8',
        });
        expect(python.status, python.stderr).to.equal(0);
        const answer = JSON.parse(python.stdout) as { bestIteration: number | null; predictions: string };
        // Copied into a fresh buffer: a Buffer's byteOffset into Node's pool need not be 4-byte aligned.
        const pythonPredictions = new Float32Array(Uint8Array.from(Buffer.from(answer.predictions, 'base64')).buffer);

        expect(answer.bestIteration).to.equal(model.bestIteration);
        expectBitIdentical(model.predict(features, data.nrow), pythonPredictions);
      } finally {
        model.dispose();
        rmSync(directory, { recursive: true, force: true });
      }
    });
  });
});
