import { ModelError } from '../../lib/errors';
import { blendForecast, type BlendComponent, type BlendWeights, type ClvCandidate } from './bake-off';
import { historicalAverageClv, historicalAverageInterval, type RecentTransactionHistory } from './baseline';
import { resolveInterval, type ClvInterval, type ClvIntervalOptions } from './parameter-sampling';
import type { ClvHistory, ProbabilisticClv } from './probabilistic-clv';

export interface ServedClvInput {
  model: ClvCandidate;
  history: ClvHistory & RecentTransactionHistory;
  horizonDays: number;
  /** The fitted probabilistic model; one with fit flags is not used, for the forecast nor for intervals. */
  probabilistic: ProbabilisticClv | null;
  /** The GBM's forecast for the same customers, when the GBM or a blend using it serves. */
  gbmForecast: Float64Array | null;
  blendWeights: BlendWeights | null;
  interval?: ClvIntervalOptions;
}

export interface ServedClv {
  expectedNetRevenue: Float64Array;
  interval: ClvInterval;
}

/**
 * The served model's forecast of expected net revenue over the horizon, with a per-customer interval:
 * - historical average: the exact Poisson interval of the customer's own purchase rate (historicalAverageInterval);
 * - BG/NBD + Gamma-Gamma: parameter sampling from the fit's covariance (ProbabilisticClv.predictInterval);
 * - XGBoost: the trees have no parameter covariance to sample, so the interval is the span of its own forecast and the
 *   probabilistic model's interval (the historical average's when the probabilistic fit is flagged): it is wide where
 *   the models disagree, which is where a conservative CLV should be conservative;
 * - blend: the weighted sum of its components' bounds (as if their errors were perfectly correlated: never narrower
 *   than the truth for that reason).
 */
export function servedClv(input: ServedClvInput): ServedClv {
  const { level } = resolveInterval(input.interval ?? {});
  const cache = new Map<BlendComponent, { point: Float64Array; interval: ClvInterval }>();
  const usableProbabilistic = input.probabilistic && input.probabilistic.fitState.flags.length === 0 ? input.probabilistic : null;

  const component = (name: BlendComponent): { point: Float64Array; interval: ClvInterval } => {
    const known = cache.get(name);
    if (known) return known;
    let made: { point: Float64Array; interval: ClvInterval };
    if (name === 'baseline') {
      const bounds = historicalAverageInterval(input.history, input.horizonDays, level);
      made = {
        point: historicalAverageClv(input.history, input.horizonDays),
        interval: { ...bounds, level, draws: 0, method: 'poisson-exact' },
      };
    } else if (name === 'probabilistic') {
      if (!usableProbabilistic) throw new ModelError('the probabilistic CLV model is flagged or missing: it cannot serve');
      made = {
        point: usableProbabilistic.predict(input.history).expectedNetRevenue,
        interval: usableProbabilistic.predictInterval(input.history, { ...input.interval, level }),
      };
    } else {
      if (!input.gbmForecast) throw new ModelError('the GBM forecast is missing: it cannot serve');
      const reference = component(usableProbabilistic ? 'probabilistic' : 'baseline').interval;
      const point = input.gbmForecast;
      made = {
        point,
        interval: {
          lower: point.map((v, i) => Math.min(v, reference.lower[i]!)),
          upper: point.map((v, i) => Math.max(v, reference.upper[i]!)),
          level,
          draws: reference.draws,
          method: `span of the forecast and the ${reference.method} interval`,
        },
      };
    }
    cache.set(name, made);
    return made;
  };

  if (input.model !== 'blend') {
    const { point, interval } = component(input.model);
    return { expectedNetRevenue: point, interval };
  }
  if (!input.blendWeights) throw new ModelError('the blend serves but has no weights');
  const parts = (Object.entries(input.blendWeights) as [BlendComponent, number][]).filter(([, w]) => w > 0).map(([name]) => name);
  const of = (pickValues: (c: { point: Float64Array; interval: ClvInterval }) => Float64Array) =>
    blendForecast(Object.fromEntries(parts.map((name) => [name, pickValues(component(name))])), input.blendWeights!);
  return {
    expectedNetRevenue: of((c) => c.point),
    interval: {
      lower: of((c) => c.interval.lower),
      upper: of((c) => c.interval.upper),
      level,
      draws: Math.max(...parts.map((name) => component(name).interval.draws)),
      method: `weighted bounds of ${parts.join(', ')}`,
    },
  };
}
