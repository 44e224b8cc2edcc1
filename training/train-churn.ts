import type { Knex } from 'knex';
import { addDays } from '../features/churn-labels';
import { purchaseHistories } from '../features/clv-summary';
import { FEATURE_VERSION } from '../features/catalog';
import type { TrainingSample } from '../features/training-sample';
import { fitServedChurnModel } from '../models/churn/candidates';
import { fitBetaGeo } from '../models/churn/no-purchase-probability';
import { registerModel, type RegisteredModel } from '../registry/model-registry';
import { rollingOriginBakeOff } from './churn-bake-off';
import { ChurnRowsCache, cutoffGrid, firstPurchaseAt, resolveCutoffOptions, trainingCutoffs } from './churn-training';
import { keep } from './keep-model';
import { StepTimings } from './step-timings';

/**
 * The bake-off at training time runs two origins (`foresight backtest` runs three), each fitting its candidates on at
 * most 250,000 rows (an even stride through the fit cutoffs' rows; a 200,000-customer shop has about 450,000): enough
 * to rank them, at a cost that stops growing with the shop. Only the winner is then fitted on every row.
 */
const TRAINING_ORIGINS = 2;
const TRAINING_MAX_FIT_ROWS = 250_000;

/**
 * Churn for serving at `asOf`: a rolling-origin bake-off on the cutoffs up to asOf − H picks the candidate, which is
 * then fitted on the latest cutoffs (calibrated on the latest of them) and registered with the bake-off's metrics.
 * Given a training sample, every cutoff's rows are the sampled customers' only.
 */
export async function trainChurn(
  db: Knex,
  asOf: Date,
  horizonDays: number,
  createdBy: string,
  promote: boolean,
  trainingRun?: string,
  steps: StepTimings = new StepTimings(),
  sample: TrainingSample | null = null,
): Promise<RegisteredModel> {
  const cutoffs = resolveCutoffOptions({ horizonDays });
  const grid = cutoffGrid(addDays(asOf, -horizonDays), await firstPurchaseAt(db), cutoffs);
  const cache = new ChurnRowsCache(db, horizonDays, asOf, steps, sample);
  const training = trainingCutoffs(grid, asOf, cutoffs);
  const bakeOff = await rollingOriginBakeOff(cache, {
    grid,
    readAfter: [...training.fit, ...training.calibration],
    origins: TRAINING_ORIGINS,
    cutoffs,
    bootstrap: { replicates: 200 },
    maxFitRows: TRAINING_MAX_FIT_ROWS,
  });
  const serving = bakeOff.bakeOff.served;
  const fit = await cache.stacked(training.fit);
  const calibration = await cache.stacked(training.calibration);
  const betaGeo =
    serving === 'bgnbd'
      ? await steps.time('churn served: BG/NBD fit', async () => fitBetaGeo(await purchaseHistories(db, asOf, sample)))
      : null;
  const artifact = steps.timeSync(
    `churn served: fit ${serving} (and the XGBoost explainer)`,
    () => fitServedChurnModel(serving, fit, calibration, { horizonDays }, betaGeo),
    `${fit.nrow} fit rows, ${calibration.nrow} calibration rows`,
  );
  const model = await registerModel(db, {
    kind: 'churn',
    parameters: { horizonDays, serving },
    featureVersion: FEATURE_VERSION,
    trainingFrom: training.fit[0],
    trainingTo: asOf,
    metrics: {
      serving,
      reason: bakeOff.bakeOff.reason,
      bakeOff: bakeOff.bakeOff.candidates,
      marginOverBestBaseline: { baseline: bakeOff.bakeOff.bestBaseline, auc: bakeOff.bakeOff.marginOverBestBaseline },
      // The served candidate's backtest curves, kept with the model so the console draws them without re-running it.
      reliability: bakeOff.bakeOff.reliability,
      gains: bakeOff.bakeOff.gains,
      origins: bakeOff.origins,
      excluded: bakeOff.excluded,
      trainingCutoffs: { fit: training.fit, calibration: training.calibration },
      rows: { fit: fit.nrow, calibration: calibration.nrow },
      trainingSample: sample,
    },
    artifact,
    createdBy,
    trainingRun,
  });
  return keep(db, model, promote, createdBy);
}
