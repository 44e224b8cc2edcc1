import { z } from 'zod';
import { ValidationError } from '../lib/errors';
import { GbmClv, type FeatureRows } from '../models/clv/gbm-clv';
import { ProbabilisticClv, type ClvHistory, type ProbabilisticClvPrediction } from '../models/clv/probabilistic-clv';
import { estimatorJson, parseArtifact, restoreField } from './artifact-parsing';

export const CLV_SERVING_MODELS = ['probabilistic', 'gbm'] as const;
export type ClvServingModel = (typeof CLV_SERVING_MODELS)[number];

const WHAT = 'CLV serving bundle';

const jsonSchema = z
  .object({
    serving: z.enum(CLV_SERVING_MODELS),
    probabilistic: estimatorJson,
    gbm: estimatorJson.nullable(),
  })
  .strict()
  .superRefine((bundle, ctx) => {
    if (bundle.serving === 'gbm' && bundle.gbm === null)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['gbm'], message: 'the GBM serves, so its model is required' });
  });

export interface ClvServingBundleJson {
  serving: ClvServingModel;
  probabilistic: ReturnType<ProbabilisticClv['toJSON']>;
  gbm: ReturnType<GbmClv['toJSON']> | null;
}

/**
 * The registry artifact of kind `clv`: the probabilistic model (always: it gives P(alive), expected orders and spend
 * per order) and, when a backtest chose it, the gradient-boosted model that then gives the expected net revenue.
 * Holds a native booster when the GBM serves: dispose() when done.
 */
export class ClvServingBundle {
  constructor(
    readonly serving: ClvServingModel,
    readonly probabilistic: ProbabilisticClv,
    readonly gbm: GbmClv | null,
  ) {
    if (serving === 'gbm' && gbm === null) throw new ValidationError('the GBM serves, so its model is required', 'gbm');
  }

  static fromJSON(json: unknown): ClvServingBundle {
    const parsed = parseArtifact(jsonSchema, json, WHAT);
    const probabilistic = restoreField('probabilistic', WHAT, () => ProbabilisticClv.fromJSON(parsed.probabilistic));
    const gbm = parsed.gbm === null ? null : restoreField('gbm', WHAT, () => GbmClv.fromJSON(parsed.gbm));
    return new ClvServingBundle(parsed.serving, probabilistic, gbm);
  }

  toJSON(): ClvServingBundleJson {
    return { serving: this.serving, probabilistic: this.probabilistic.toJSON(), gbm: this.gbm?.toJSON() ?? null };
  }

  /** The probabilistic prediction, with expected net revenue from the serving model. */
  predict(history: ClvHistory, features: FeatureRows): ProbabilisticClvPrediction {
    const prediction = this.probabilistic.predict(history);
    if (this.serving === 'gbm') return { ...prediction, expectedNetRevenue: this.gbm!.predict(features) };
    return prediction;
  }

  dispose(): void {
    this.gbm?.dispose();
  }
}
