import { expect } from 'chai';
import { mulberry32 } from '../../lib/random';
import {
  averagePrecision,
  brierScore,
  evaluateClassifier,
  expectedCalibrationError,
  liftAndCapture,
  logLoss,
  reliabilityTable,
  rocAuc,
} from '../../models/evaluation/classification';
import {
  evaluateRegressor,
  meanAbsoluteError,
  predictedToActualRatio,
  rootMeanSquaredError,
  spearmanCorrelation,
  valueCaptureInTop,
} from '../../models/evaluation/regression';
import {
  classificationMetricSpecs,
  compareModels,
  comparisonToMarkdown,
  regressionMetricSpecs,
  reliabilityToMarkdown,
} from '../../models/evaluation/report';
import { CompensatedSum, compensatedSum } from '../../models/evaluation/sum';
import { expectValidationError } from '../support/expect-error';

/** Probabilities uniform on [0, 1) and labels drawn from `truth(p)`: calibrated when truth is the identity. */
function syntheticSample(rows: number, seed: number, truth: (p: number) => number) {
  const random = mulberry32(seed);
  const probabilities = new Float64Array(rows);
  const labels = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    probabilities[i] = random();
    labels[i] = random() < truth(probabilities[i]) ? 1 : 0;
  }
  return { probabilities, labels };
}

/** Every (positive, negative) pair, by brute force: the definition that rocAuc computes in O(n log n). */
function pairwiseAuc(labels: Uint8Array, scores: Float64Array): number {
  let pairs = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < labels.length; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs++;
      correct += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return correct / pairs;
}

describe('evaluation: compensated sum', () => {
  it('keeps what plain addition loses', () => {
    expect(compensatedSum([1e16, 1, -1e16])).to.equal(1);
    // Kahan's original gets this one wrong; Neumaier's variant does not.
    expect(compensatedSum([1, 1e100, 1, -1e100])).to.equal(2);
    const cents = new CompensatedSum();
    for (let i = 0; i < 1_000_000; i++) cents.add(0.01);
    expect(cents.value).to.equal(10000);
  });
});

describe('evaluation: classification', () => {
  const y = [0, 0, 1, 1];
  const scores = [0.1, 0.4, 0.35, 0.8];

  it("matches scikit-learn's documented example: AUC 0.75 and average precision 0.8333", () => {
    expect(rocAuc(y, scores)).to.be.closeTo(0.75, 1e-12);
    expect(averagePrecision(y, scores)).to.be.closeTo(5 / 6, 1e-12);
  });

  it('gives AUC 1 to a perfect ranking and 0 to a reversed one, whatever the array types', () => {
    const labels = Uint8Array.from([0, 0, 1, 1, 1]);
    expect(rocAuc(labels, Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]))).to.equal(1);
    expect(rocAuc(labels, Float64Array.from([5, 4, 3, 2, 1]))).to.equal(0);
    expect(averagePrecision(labels, [0.1, 0.2, 0.3, 0.4, 0.5])).to.equal(1);
  });

  it('counts tied positive-negative pairs as half', () => {
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).to.equal(0.5);
    // Pairs: both positives beat the negative at 0.2 (2) and tie the one at 0.6 (2 × ½): 3 of 4.
    expect(rocAuc([0, 1, 1, 0], [0.2, 0.6, 0.6, 0.6])).to.equal(0.75);
  });

  it('agrees with the pairwise definition of AUC on random scores with many ties', () => {
    const random = mulberry32(7);
    const labels = new Uint8Array(300);
    const tiedScores = new Float64Array(300);
    for (let i = 0; i < 300; i++) {
      tiedScores[i] = Math.floor(random() * 20) / 20;
      labels[i] = random() < tiedScores[i] ? 1 : 0;
    }
    expect(rocAuc(labels, tiedScores)).to.be.closeTo(pairwiseAuc(labels, tiedScores), 1e-12);
  });

  it('takes each tie group as one threshold for average precision, as scikit-learn does', () => {
    // One threshold at 0.5 holding 2 positives of 3 rows: recall 1 at precision 2/3.
    expect(averagePrecision([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.1])).to.be.closeTo(2 / 3, 1e-12);
  });

  it('computes Brier score and log loss as in scikit-learn’s documentation', () => {
    expect(brierScore([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3])).to.be.closeTo(0.0375, 1e-12);
    // log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) with spam = 1.
    expect(logLoss([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.65])).to.be.closeTo(0.21616187468057912, 1e-12);
    // A confident mistake is clipped to a finite cost.
    expect(logLoss([1], [0])).to.be.closeTo(-Math.log(1e-15), 1e-9);
  });

  it('builds the reliability table and ECE by hand on two bins', () => {
    const labels = [0, 1, 1, 1];
    const probabilities = [0.2, 0.2, 0.8, 0.8];
    expect(reliabilityTable(labels, probabilities, { bins: 2 })).to.deep.equal([
      { lower: 0, upper: 0.5, count: 2, meanPredicted: 0.2, observedRate: 0.5 },
      { lower: 0.5, upper: 1, count: 2, meanPredicted: 0.8, observedRate: 1 },
    ]);
    // ½·|0.2 − 0.5| + ½·|0.8 − 1|
    expect(expectedCalibrationError(labels, probabilities, { bins: 2 })).to.be.closeTo(0.25, 1e-12);
  });

  it('puts probability 1 in the last uniform bin and leaves empty bins out', () => {
    const table = reliabilityTable([1, 0], [1, 0.05]);
    expect(table.map((bin) => [bin.lower, bin.upper, bin.count])).to.deep.equal([
      [0, 0.1, 1],
      [0.9, 1, 1],
    ]);
  });

  it('cuts quantile bins into equal row counts without splitting ties', () => {
    const probabilities = [0.01, 0.02, 0.03, 0.04, 0.5, 0.6, 0.7, 0.8];
    const labels = [0, 0, 0, 1, 0, 1, 1, 1];
    const table = reliabilityTable(labels, probabilities, { bins: 2, strategy: 'quantile' });
    expect(table.map((bin) => [bin.lower, bin.upper, bin.count, bin.observedRate])).to.deep.equal([
      [0.01, 0.04, 4, 0.25],
      [0.5, 0.8, 4, 0.75],
    ]);
    const tied = reliabilityTable([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.9], { bins: 2, strategy: 'quantile' });
    expect(tied.map((bin) => bin.count)).to.deep.equal([3, 1]);
  });

  it('finds ECE near zero for calibrated probabilities and large for miscalibrated ones', () => {
    const calibrated = syntheticSample(200_000, 1, (p) => p);
    const overconfident = syntheticSample(200_000, 2, (p) => 0.25 + p / 2);
    for (const strategy of ['uniform', 'quantile'] as const) {
      expect(expectedCalibrationError(calibrated.labels, calibrated.probabilities, { strategy })).to.be.below(0.01);
      // The truth is 0.25 + p/2, so the gap is |p/2 − 0.25|, which averages 0.125 over p uniform.
      expect(expectedCalibrationError(overconfident.labels, overconfident.probabilities, { strategy })).to.be.closeTo(0.125, 0.01);
    }
  });

  it('computes lift and capture in the top 10% and 20%', () => {
    const labels = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0];
    const scores = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    const [top10, top20] = liftAndCapture(labels, scores);
    expect(top10).to.include({ fraction: 0.1, rows: 1, positives: 1, positiveRate: 1 });
    expect(top10.lift).to.be.closeTo(1 / 0.3, 1e-12);
    expect(top10.capture).to.be.closeTo(1 / 3, 1e-12);
    expect(top20.lift).to.be.closeTo(1 / 0.3, 1e-12);
    expect(top20.capture).to.be.closeTo(2 / 3, 1e-12);
  });

  it('shares a tie group at the cut pro rata, so row order does not matter', () => {
    // Top 20% = 2 rows: the 0.9 positive, and half of the {positive, negative} tied at 0.5.
    const [top20] = liftAndCapture([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [0.9, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [0.2]);
    const [swapped] = liftAndCapture([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], [0.9, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [0.2]);
    expect(top20.positives).to.equal(1.5);
    expect(top20.capture).to.equal(0.75);
    expect(swapped).to.deep.equal(top20);
  });

  it('rejects undefined metrics and bad inputs with a ValidationError naming the parameter', () => {
    expectValidationError(() => rocAuc([1, 1, 1], [0.1, 0.2, 0.3]), 'labels');
    expectValidationError(() => rocAuc([0, 0], [0.1, 0.2]), 'labels');
    expectValidationError(() => averagePrecision([0, 0], [0.1, 0.2]), 'labels');
    expectValidationError(() => liftAndCapture([0, 0], [0.1, 0.2]), 'labels');
    expectValidationError(() => liftAndCapture([0, 1], [0.1, 0.2], [0]), 'fractions');
    expectValidationError(() => rocAuc([], []), 'labels');
    expectValidationError(() => rocAuc([0, 1, 2], [0.1, 0.2, 0.3]), 'labels');
    expectValidationError(() => rocAuc([0, 1], [0.1, 0.2, 0.3]), 'scores');
    expectValidationError(() => rocAuc([0, 1], [0.1, NaN]), 'scores');
    expectValidationError(() => brierScore([0, 1], [0.1, 1.2]), 'probabilities');
    expectValidationError(() => expectedCalibrationError([0, 1], [0.1, 0.2], { bins: 0 }), 'bins');
  });

  it('still scores Brier, log loss and ECE when only one class is present', () => {
    expect(brierScore([0, 0], [0.1, 0.3])).to.be.closeTo(0.05, 1e-12);
    expect(expectedCalibrationError([0, 0], [0.1, 0.3])).to.be.closeTo(0.2, 1e-12);
    expect(logLoss([1, 1], [1, 1])).to.be.closeTo(1e-15, 1e-16);
  });

  it('evaluates a million rows, agreeing with the single-metric functions', function () {
    // No timing assertion (speed is measured in bench/, not in tests): an accidental O(n²) would take hours and
    // hit mocha's timeout.
    const { labels, probabilities } = syntheticSample(1_000_000, 3, (p) => p * p);
    const metrics = evaluateClassifier(labels, probabilities);
    expect(metrics.rows).to.equal(1_000_000);
    expect(metrics.rocAuc).to.equal(rocAuc(labels, probabilities));
    expect(metrics.averagePrecision).to.equal(averagePrecision(labels, probabilities));
    expect(metrics.topFractions.map((top) => top.fraction)).to.deep.equal([0.1, 0.2]);
    // With P(y = 1 | p) = p², positives have density 3p² and negatives 3(1 − p²)/2, so AUC = 7/8.
    expect(metrics.rocAuc).to.be.closeTo(0.875, 0.002);
  });
});

describe('evaluation: regression', () => {
  const actual = [1, 2, 3, 4];
  const predicted = [2, 2, 2, 6];

  it('computes MAE, RMSE and the predicted-to-actual ratio by hand', () => {
    expect(meanAbsoluteError(actual, predicted)).to.equal(1);
    expect(rootMeanSquaredError(actual, predicted)).to.be.closeTo(Math.sqrt(1.5), 1e-12);
    expect(predictedToActualRatio(actual, predicted)).to.be.closeTo(1.2, 1e-12);
  });

  it('averages tied ranks in Spearman correlation, as scipy does', () => {
    // scipy.stats.spearmanr([1, 2, 3, 4], [2, 2, 2, 6]) = 3 / √15
    expect(spearmanCorrelation(actual, predicted)).to.be.closeTo(3 / Math.sqrt(15), 1e-12);
    expect(spearmanCorrelation([1, 2, 3], [30, 20, 10])).to.be.closeTo(-1, 1e-12);
    expectValidationError(() => spearmanCorrelation([1, 2, 3], [5, 5, 5]), 'predicted');
    expectValidationError(() => spearmanCorrelation([1, 1, 1], [1, 2, 3]), 'actual');
  });

  it('measures the value captured by the top decile by prediction', () => {
    const values = [100, 0, 0, 0, 0, 0, 0, 0, 0, 300];
    const byPrediction = [9, 1, 1, 1, 1, 1, 1, 1, 1, 5];
    expect(valueCaptureInTop(values, byPrediction)).to.equal(0.25);
    expect(valueCaptureInTop(values, byPrediction, 0.2)).to.equal(1);
    // Two rows tied at the cut of the top 10%: half of their 400 counts.
    expect(valueCaptureInTop(values, [5, 1, 1, 1, 1, 1, 1, 1, 1, 5])).to.equal(0.5);
    expectValidationError(() => valueCaptureInTop([0, 0], [1, 2]), 'actual');
  });

  it('sums large money amounts without losing the small ones', () => {
    const amounts = [1e15, ...Array.from({ length: 1000 }, () => 0.01), -1e15];
    const zeros = amounts.map(() => 0);
    // Plain addition gives 0 for this sum of ten dollars; the total (and so the ratio) must be 10.
    expect(predictedToActualRatio([10], [compensatedSum(amounts)])).to.be.closeTo(1, 1e-9);
    expect(meanAbsoluteError(amounts, zeros) * amounts.length).to.be.closeTo(2e15 + 10, 1e-3);
  });

  it('evaluates everything at once', () => {
    expect(evaluateRegressor(actual, predicted)).to.deep.equal({
      rows: 4,
      meanAbsoluteError: 1,
      rootMeanSquaredError: rootMeanSquaredError(actual, predicted),
      spearman: spearmanCorrelation(actual, predicted),
      topDecileCapture: 0.4,
      predictedToActual: predictedToActualRatio(actual, predicted),
    });
  });
});

describe('evaluation: report', () => {
  const labels = [0, 0, 1, 1, 0, 1, 0, 0, 1, 0];
  const model = evaluateClassifier(labels, [0.1, 0.2, 0.7, 0.9, 0.3, 0.6, 0.2, 0.1, 0.8, 0.4]);
  const baseRate = evaluateClassifier(
    labels,
    labels.map(() => 0.4),
  );

  it('builds a JSON-ready comparison with the best model marked per metric', () => {
    const comparison = compareModels(
      { name: 'churn-xgb', metrics: model },
      [{ name: 'base rate', metrics: baseRate }],
      classificationMetricSpecs(),
    );
    expect(comparison.model).to.equal('churn-xgb');
    expect(comparison.baselines).to.deep.equal(['base rate']);
    const auc = comparison.rows.find((row) => row.key === 'rocAuc');
    expect(auc).to.deep.include({ better: 'higher', values: { 'churn-xgb': 1, 'base rate': 0.5 }, best: ['churn-xgb'] });
    expect(comparison.rows.map((row) => row.key)).to.include.members(['liftTop10', 'captureTop20']);
    expect(JSON.parse(JSON.stringify(comparison))).to.deep.equal(comparison);
  });

  it('marks ties, picks the ratio closest to 1, and shows missing values as null', () => {
    const regression = (predictedToActual: number, spearman: number) => ({
      rows: 4,
      meanAbsoluteError: 2,
      rootMeanSquaredError: 3,
      spearman,
      topDecileCapture: 0.3,
      predictedToActual,
    });
    const comparison = compareModels(
      { name: 'clv', metrics: regression(0.9, NaN) },
      [{ name: 'last year | flat', metrics: regression(1.2, 0.4) }],
      regressionMetricSpecs,
    );
    const row = (key: string) => comparison.rows.find((r) => r.key === key);
    expect(row('predictedToActual')?.best).to.deep.equal(['clv']);
    expect(row('meanAbsoluteError')?.best).to.deep.equal(['clv', 'last year | flat']);
    expect(row('spearman')?.values).to.deep.equal({ clv: null, 'last year | flat': 0.4 });

    const markdown = comparisonToMarkdown(comparison, 2);
    expect(markdown).to.contain('| Metric | clv | last year \\| flat |');
    expect(markdown).to.contain('| Total predicted ÷ actual → 1 | **0.90** | 1.20 |');
    expect(markdown).to.contain('| Spearman rank correlation ↑ | — | **0.40** |');
    expect(markdown).to.contain('| MAE ↓ | **2.00** | **2.00** |');
  });

  it('rejects two columns with the same name', () => {
    expectValidationError(
      () => compareModels({ name: 'a', metrics: model }, [{ name: 'a', metrics: baseRate }], classificationMetricSpecs()),
      'baselines',
    );
  });

  it('renders the reliability table in Markdown', () => {
    const markdown = reliabilityToMarkdown(reliabilityTable([0, 1, 1, 1], [0.2, 0.2, 0.8, 0.8], { bins: 2 }));
    expect(markdown.split('\n')).to.deep.equal([
      '| Predicted probability | Rows | Mean predicted | Observed rate | Observed − predicted |',
      '| --- | ---: | ---: | ---: | ---: |',
      '| 0.000–0.500 | 2 | 0.200 | 0.500 | 0.300 |',
      '| 0.500–1.000 | 2 | 0.800 | 1.000 | 0.200 |',
      '',
    ]);
  });
});
