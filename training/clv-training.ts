import type { Knex } from 'knex';
import { MS_PER_DAY } from '../lib/horizons';
import { backtestClv, chooseClvModel, type ClvBacktestResult, type LatestOriginInputs } from './clv-backtest';
import { featuresAsOf } from '../features/features-as-of';
import { clvSummary } from '../features/clv-summary';
import { FEATURE_VERSION } from '../features/catalog';
import type { TrainingSample } from '../features/training-sample';
import { CLV_MODEL_LABELS, type ClvCandidate } from '../models/clv/bake-off';
import type { ClvFitFlag } from '../models/clv/fit-diagnostics';
import { GbmClv } from '../models/clv/gbm-clv';
import { ProbabilisticClv } from '../models/clv/probabilistic-clv';
import { ClvServingBundle, type ClvServingBundleJson } from '../registry/clv-serving-bundle';
import { registerModel, type RegisteredModel } from '../registry/model-registry';
import { StepTimings } from './step-timings';

/** The CLV model that serves, and why; `fallbackFrom` names the bake-off's winner when it could not serve. */
export interface ClvServingDecision {
  model: ClvCandidate;
  reason: string;
  fallbackFrom: ClvCandidate | null;
  /** The flags of the probabilistic fit as of the training date (empty when it is sound). */
  probabilisticFlags: ClvFitFlag[];
}

/**
 * Runs the CLV bake-off on the rolling-origin backtest ending one horizon before asOf (so every outcome is observed),
 * fits what serves as of asOf, and registers the CLV model with the bake-off in its metrics. A probabilistic fit that
 * is flagged now (degenerate or unstable) does not serve: the best of the other candidates does, and the artifact says
 * so. Without enough history for a backtest, the probabilistic model serves if its fit is sound, else the historical average.
 * Given a training sample, every summary, backtest and fit reads the sampled customers only.
 */
export async function trainClvModel(
  db: Knex,
  asOf: Date,
  horizonDays: number,
  horizonMonths: number,
  createdBy: string,
  trainingRun?: string,
  steps: StepTimings = new StepTimings(),
  sample: TrainingSample | null = null,
): Promise<{ model: RegisteredModel; choice: ClvServingDecision }> {
  const summary = await steps.time('clv served: purchase summary', () => clvSummary(db, { asOf, sample }));
  let probabilistic: ProbabilisticClv | null = null;
  let probabilisticFlags: ClvFitFlag[] = ['fit_did_not_converge'];
  let fitError: string | null = null;
  try {
    probabilistic = steps.timeSync('clv served: BG/NBD + Gamma-Gamma fit', () => new ProbabilisticClv({ horizonMonths }).fit(summary));
    probabilisticFlags = probabilistic.fitState.flags;
  } catch (err) {
    fitError = (err as Error).message;
  }
  const flagged =
    probabilisticFlags.length > 0 ? `its fit as of ${asOf.toISOString().slice(0, 10)} is flagged: ${probabilisticFlags.join(', ')}` : null;

  let backtest: ClvBacktestResult | null = null;
  let latestOrigin: LatestOriginInputs | null = null;
  let decision: ClvServingDecision;
  try {
    backtest = await backtestClv(db, {
      asOf: new Date(asOf.getTime() - horizonDays * MS_PER_DAY),
      horizonDays,
      steps,
      sample,
      onLatestOrigin: (inputs) => (latestOrigin = inputs),
    });
  } catch (err) {
    const why = `no backtest possible (${(err as Error).message})`;
    decision = flagged
      ? { model: 'baseline', reason: `${why}, and the probabilistic model ${flagged}`, fallbackFrom: 'probabilistic', probabilisticFlags }
      : { model: 'probabilistic', reason: `${why}; the probabilistic model needs no past window`, fallbackFrom: null, probabilisticFlags };
  }
  if (backtest) {
    const winner = backtest.choice;
    const usesProbabilistic =
      winner.model === 'probabilistic' || (winner.model === 'blend' && (winner.blendWeights?.probabilistic ?? 0) > 0);
    if (flagged && usesProbabilistic) {
      const fallback = chooseClvModel(backtest, { probabilistic: flagged });
      decision = {
        model: fallback.model,
        reason: `${CLV_MODEL_LABELS[winner.model]} won the bake-off but ${flagged}; serving the best of the rest: ${fallback.reason}`,
        fallbackFrom: winner.model,
        probabilisticFlags,
      };
    } else {
      decision = { model: winner.model, reason: winner.reason, fallbackFrom: null, probabilisticFlags };
    }
  }
  const choice = decision!;
  const blendWeights = choice.model === 'blend' ? backtest!.bakeOff.blendWeights : null;

  let gbm: GbmClv | null = null;
  if (choice.model === 'gbm' || (blendWeights?.gbm ?? 0) > 0) {
    // It learns from features at asOf − H and the net revenue since: the backtest's latest origin, read there already.
    const cutoff = new Date(asOf.getTime() - horizonDays * MS_PER_DAY);
    const inputs =
      (latestOrigin as LatestOriginInputs | null) ?? // assigned in the backtest's callback
      (await steps.time('clv served: GBM summary and features', async () => {
        const summary = await clvSummary(db, { asOf: cutoff, holdoutDays: horizonDays, sample });
        return { summary, features: await featuresAsOf(db, cutoff, summary.customerIds, sample) };
      }));
    gbm = steps.timeSync(
      'clv served: GBM fit',
      () => new GbmClv({ horizonDays }).fit(inputs.features, inputs.summary.holdout!.netRevenue),
      (g) => `${inputs.features.nrow} rows, ${(g.bestIteration ?? 0) + 1} trees`,
    );
  }
  const bundle = new ClvServingBundle(choice.model, probabilistic, gbm, {
    horizonDays,
    blendWeights,
    fallback: choice.fallbackFrom ? { from: choice.fallbackFrom, reason: choice.reason } : null,
  });
  let artifact: ClvServingBundleJson;
  try {
    artifact = bundle.toJSON();
  } finally {
    bundle.dispose();
  }
  const model = await registerModel(db, {
    kind: 'clv',
    parameters: { horizonMonths, horizonDays, serving: choice.model },
    featureVersion: FEATURE_VERSION,
    trainingTo: asOf,
    metrics: {
      choice,
      bakeOff: backtest && { ...backtest.bakeOff, originResults: backtest.origins, originsSkipped: backtest.originsSkipped },
      fit: probabilistic?.fitState ?? { error: fitError, flags: probabilisticFlags },
      trainingSample: sample,
    },
    artifact,
    createdBy,
    trainingRun,
  });
  return { model, choice };
}
