import { expect } from 'chai';
import { ModelError, ValidationError } from '../../lib/errors';
import { RecencyBaseline, RecencyRuleBaseline, RfmHeuristicBaseline, churnBaselines } from '../../models/churn/baselines';
import { driverSentence, type FeatureValues } from '../../models/churn/drivers';
import { ChurnModel, DEFAULT_CHURN_MODEL_PARAMS } from '../../models/churn/model';
import { FEATURE_NAMES } from '../../features/catalog';
import { XGBoostModel } from '../../models/xgboost';

/** A seeded matrix over the catalog's columns whose churn depends on recency relative to the usual gap. */
function syntheticCustomers(nrow: number, seed: number) {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const ncol = FEATURE_NAMES.length;
  const column = (name: string) => FEATURE_NAMES.indexOf(name);
  const X = new Float32Array(nrow * ncol);
  const y = new Uint8Array(nrow);
  for (let i = 0; i < nrow; i++) {
    for (let j = 0; j < ncol; j++) X[i * ncol + j] = Math.round(random() * 100);
    const recency = random() * 400;
    const gap = 20 + random() * 100;
    X[i * ncol + column('recency_days')] = recency;
    X[i * ncol + column('gap_mean_days')] = gap;
    X[i * ncol + column('gap_overdue_ratio')] = recency / gap;
    if (i % 7 === 0) X[i * ncol + column('days_since_last_session')] = NaN;
    y[i] = random() < 1 / (1 + Math.exp(-(recency / gap - 2))) ? 1 : 0;
  }
  return { X, nrow, ncol, y, featureNames: [...FEATURE_NAMES] };
}

const FAST = { xgboost: { rounds: 30, earlyStoppingRounds: 5 } };

describe('models/churn model, drivers and baselines', () => {
  describe('driver sentences', () => {
    it('compare days since the last order with the customer’s usual gap', () => {
      const row: FeatureValues = { recency_days: 94, gap_mean_days: 31, orders_lifetime: 4 };
      expect(driverSentence('recency_days', row)).to.equal("No order for 94 days, three times this customer's usual gap of 31 days");
      expect(driverSentence('recency_days', { ...row, recency_days: 62 })).to.equal(
        "No order for 62 days, twice this customer's usual gap of 31 days",
      );
      expect(driverSentence('recency_days', { ...row, recency_days: 12 })).to.equal(
        "Last order 12 days ago, within this customer's usual gap of 31 days",
      );
      expect(driverSentence('recency_days', { recency_days: 200, gap_mean_days: NaN, orders_lifetime: 1 })).to.equal(
        'Only one order so far, 200 days ago',
      );
    });

    it('describe the change in spend against the 90 days before', () => {
      expect(driverSentence('spend_ratio_90d', { spend_ratio_90d: 0.4 })).to.equal(
        'Spend in the last 90 days fell 60% against the 90 days before',
      );
      expect(driverSentence('spend_ratio_90d', { spend_ratio_90d: 1.25 })).to.equal(
        'Spend in the last 90 days rose 25% against the 90 days before',
      );
      expect(driverSentence('spend_ratio_90d', { spend_ratio_90d: 0 })).to.equal(
        'No spend in the last 90 days, after spending in the 90 days before',
      );
      expect(driverSentence('spend_ratio_90d', { spend_ratio_90d: NaN, spend_90d: 0 })).to.equal('No spend in the last 180 days');
    });

    it('count orders and visits in words, singular and plural', () => {
      expect(driverSentence('orders_90d', { orders_90d: 0 })).to.equal('No completed orders in the last 90 days');
      expect(driverSentence('sessions_30d', { sessions_30d: 1 })).to.equal('1 site visit in the last 30 days');
      expect(driverSentence('orders_change_90d', { orders_change_90d: -2 })).to.equal(
        '2 fewer completed orders in the last 90 days than in the 90 days before',
      );
    });

    it('fall back to "<catalog description>: <value with unit>" for a feature without a template', () => {
      expect(driverSentence('cancelled_orders_365d', { cancelled_orders_365d: 2 })).to.equal('Cancelled orders in the last 365 days: 2');
      expect(driverSentence('gap_stddev_days', { gap_stddev_days: 12.4 })).to.equal(
        'Variability of the days between consecutive completed orders: 12 days',
      );
      expect(driverSentence('returned_amount_lifetime', { returned_amount_lifetime: 1234.5 })).to.equal('Amount returned ever: 1,234.50');
      expect(driverSentence('average_session_minutes_90d', { average_session_minutes_90d: NaN })).to.equal(
        'Average length of a site session in the last 90 days: unknown',
      );
    });

    it('give every catalog feature a sentence, with or without a value', () => {
      for (const feature of FEATURE_NAMES) {
        for (const value of [0, 1, 3.5, NaN]) {
          const sentence = driverSentence(feature, { [feature]: value, recency_days: 40, gap_mean_days: 20, orders_lifetime: 3 });
          expect(sentence, feature).to.be.a('string').with.length.greaterThan(0);
          expect(sentence, feature).not.to.match(/NaN|undefined|Infinity/);
        }
      }
    });
  });

  describe('baselines', () => {
    const matrix = {
      customerIds: ['recent', 'lapsed', 'middling', 'loyal', 'gone'],
      featureNames: ['recency_days', 'orders_365d', 'spend_365d', 'discount_share'],
      X: Float32Array.from([5, 6, 600, 0, 300, 1, 20, 0, 90, 2, 100, 0, 10, 12, 2000, 0, 400, 1, 30, 0]),
      nrow: 5,
      ncol: 4,
    };

    it('score days since the last order, and flag it against the threshold', () => {
      expect([...new RecencyBaseline().fit().score(matrix)]).to.deep.equal([5, 300, 90, 10, 400]);
      expect([...new RecencyRuleBaseline(90).fit().score(matrix)]).to.deep.equal([0, 1, 0, 0, 1]);
    });

    it('rank low recency and low frequency RFM scores as the highest risk', () => {
      const scores = new RfmHeuristicBaseline().fit(matrix).score(matrix);
      const ranking = [...matrix.customerIds].sort((a, b) => scores[matrix.customerIds.indexOf(b)] - scores[matrix.customerIds.indexOf(a)]);
      expect(ranking[0]).to.equal('gone');
      expect(ranking.slice(-2)).to.have.members(['recent', 'loyal']);
    });

    it('name three baselines for a horizon', () => {
      expect(churnBaselines(60).map((b) => b.name)).to.deep.equal(['Days since last order', 'No order for over 60 days', 'RFM heuristic']);
    });
  });

  describe('ChurnModel', () => {
    const train = syntheticCustomers(3000, 1);
    const calibration = syntheticCustomers(1500, 2);
    let model: ChurnModel;

    before(() => {
      model = new ChurnModel(FAST).fit(train, calibration);
    });

    after(() => model.dispose());

    it('use the documented defaults', () => {
      expect(new ChurnModel().params).to.deep.equal(DEFAULT_CHURN_MODEL_PARAMS);
      expect(DEFAULT_CHURN_MODEL_PARAMS.horizonDays).to.equal(90);
      expect(DEFAULT_CHURN_MODEL_PARAMS.calibration).to.equal('isotonic');
    });

    it('refuse bad parameters, naming them', () => {
      const field = (options: ConstructorParameters<typeof ChurnModel>[0]) => {
        try {
          new ChurnModel(options);
        } catch (error) {
          expect(error).to.be.instanceOf(ValidationError);
          return (error as ValidationError).field;
        }
        return undefined;
      };
      expect(field({ horizonDays: -1 })).to.equal('horizonDays');
      expect(field({ xgboost: { maxDepth: 0 } })).to.equal('xgboost.maxDepth');
      expect(field({ riskBands: { medium: 0.7, high: 0.6 } })).to.equal('riskBands.medium');
      expect(field({ calibration: 'beta' as 'platt' })).to.equal('calibration');
    });

    it('predict calibrated probabilities that rank churners above stayers', () => {
      const p = model.predictProba(calibration.X, calibration.nrow);
      expect(p).to.have.length(calibration.nrow);
      let churners = 0;
      let stayers = 0;
      for (let i = 0; i < p.length; i++) {
        expect(p[i]).to.be.within(0, 1);
        if (calibration.y[i] === 1) churners += p[i];
        else stayers += p[i];
      }
      const positives = calibration.y.reduce((sum, label) => sum + label, 0);
      expect(churners / positives).to.be.greaterThan(stayers / (calibration.nrow - positives) + 0.2);
    });

    it('band probabilities: low below 0.3, medium below 0.6, high from 0.6', () => {
      expect([0, 0.29, 0.3, 0.59, 0.6, 1].map((p) => model.riskBand(p))).to.deep.equal(['low', 'low', 'medium', 'medium', 'high', 'high']);
      expect(() => model.riskBand(1.2)).to.throw(ValidationError);
    });

    it('explain with the requested number of drivers, recency among the top ones', () => {
      const explanations = model.explain(train.X.subarray(0, 20 * train.ncol), 20, { top: 2 });
      expect(explanations.every((drivers) => drivers.length === 2)).to.equal(true);
      const features = new Set(explanations.flat().map((d) => d.feature));
      expect([...features].some((f) => ['recency_days', 'gap_overdue_ratio', 'gap_mean_days'].includes(f))).to.equal(true);
      const missing = model
        .explain(train.X, train.nrow, { top: FEATURE_NAMES.length })[0]
        .find((d) => d.feature === 'days_since_last_session');
      expect(missing!.value).to.equal(null);
    });

    it("rank drivers by XGBoost's approximate contributions, whose top driver is exact SHAP's for most customers", () => {
      const rows = 500;
      const X = train.X.subarray(0, rows * train.ncol);
      const explanations = model.explain(X, rows, { top: 3 });
      const booster = XGBoostModel.fromJSON(model.toJSON().xgboost);
      try {
        const approximate = booster.approximateContributions(X, rows);
        const exact = booster.contributions(X, rows).values;
        const width = train.ncol + 1;
        // Exact SHAP's own ranking, by the same rule as explain's (toward churn first, each side by size).
        const exactRanking = (row: number) =>
          FEATURE_NAMES.map((feature, j) => ({ feature, c: exact[row * width + j] })).sort(
            (a, b) => Number(b.c > 0) - Number(a.c > 0) || Math.abs(b.c) - Math.abs(a.c),
          );
        let sameTop = 0;
        let inExactTopThree = 0;
        explanations.forEach((drivers, row) => {
          for (const d of drivers) expect(d.contribution).to.equal(approximate[row * width + FEATURE_NAMES.indexOf(d.feature)]);
          const ranking = exactRanking(row);
          if (ranking[0]!.feature === drivers[0]!.feature) sameTop += 1;
          if (ranking.slice(0, 3).some((d) => d.feature === drivers[0]!.feature)) inExactTopThree += 1;
        });
        expect(sameTop / rows).to.be.above(0.75);
        expect(inExactTopThree / rows).to.be.above(0.95);
      } finally {
        booster.dispose();
      }
    });

    it('calibrate with Platt scaling when asked, and round-trip it', () => {
      const platt = new ChurnModel({ ...FAST, calibration: 'platt' }).fit(train, calibration);
      const restored = ChurnModel.fromJSON(platt.toJSON());
      try {
        expect(restored.toJSON().calibrator.format).to.equal('foresight.platt-calibrator');
        const rows = train.X.subarray(0, 100 * train.ncol);
        expect([...restored.predictProba(rows, 100)]).to.deep.equal([...platt.predictProba(rows, 100)]);
      } finally {
        platt.dispose();
        restored.dispose();
      }
    });

    it('refuse labels other than 0 and 1, naming the set', () => {
      const y = Uint8Array.from(calibration.y);
      y[3] = 2;
      expect(() => new ChurnModel(FAST).fit(train, { ...calibration, y })).to.throw(ValidationError, /calibration\.y\[3\]/);
    });

    it('refuse a state of another format or feature version', () => {
      const state = model.toJSON();
      expect(() => ChurnModel.fromJSON({ ...state, format: 'other' })).to.throw(ValidationError);
      expect(() => ChurnModel.fromJSON({ ...state, featureVersion: 'old' })).to.throw(ValidationError, /feature version old/);
      expect(() => ChurnModel.fromJSON('{')).to.throw(ValidationError, /not valid JSON/);
    });

    it('fail with a ModelError when used unfitted or after dispose()', () => {
      const unfitted = new ChurnModel();
      expect(() => unfitted.predictProba(train.X, train.nrow)).to.throw(ModelError);
      const disposable = ChurnModel.fromJSON(model.toJSON());
      disposable.dispose();
      expect(() => disposable.explain(train.X, 1)).to.throw(ModelError);
    });
  });
});
