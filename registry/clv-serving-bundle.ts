import { z } from 'zod';
import { ValidationError } from '../lib/errors';
import { CLV_CANDIDATES, type BlendComponent, type BlendWeights, type ClvCandidate } from '../models/clv/bake-off';
import type { RecentTransactionHistory } from '../models/clv/baseline';
import type { ClvFitFlag } from '../models/clv/fit-diagnostics';
import { GbmClv, type FeatureRows } from '../models/clv/gbm-clv';
import type { ClvInterval } from '../models/clv/parameter-sampling';
import { ProbabilisticClv, type ClvHistory, type ProbabilisticClvPrediction } from '../models/clv/probabilistic-clv';
import { servedClv } from '../models/clv/served-clv';
import { estimatorJson, parseArtifact, restoreField } from './artifact-parsing';

const WHAT = 'CLV serving bundle';

/** When the bake-off's winner could not serve (its fit flagged at training time): which it was and why. */
export interface ClvFallback {
  from: ClvCandidate;
  reason: string;
}

export interface ClvServingOptions {
  /** The horizon the forecasts cover, in days (the historical average scales to it). */
  horizonDays: number;
  /** The blend's weights; required when the blend serves. */
  blendWeights?: BlendWeights | null;
  fallback?: ClvFallback | null;
}

const jsonSchema = z
  .object({
    serving: z.enum(CLV_CANDIDATES),
    // Bundles written before the bake-off have no horizon: the registry entry's horizonMonths gives it.
    horizonDays: z.number().positive().finite().optional(),
    // Null when the fit failed; kept when flagged, for the record (it then does not serve).
    probabilistic: estimatorJson.nullable(),
    gbm: estimatorJson.nullable(),
    blendWeights: z
      .record(z.enum(['baseline', 'probabilistic', 'gbm']), z.number().nonnegative().finite())
      .nullable()
      .optional(),
    fallback: z
      .object({ from: z.enum(CLV_CANDIDATES), reason: z.string() })
      .strict()
      .nullable()
      .optional(),
  })
  .strict()
  .superRefine((bundle, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
    const weights = bundle.blendWeights ?? null;
    if (bundle.serving === 'blend' && weights === null) issue('blendWeights', 'the blend serves, so its weights are required');
    const uses = (part: BlendComponent) => bundle.serving === part || (bundle.serving === 'blend' && (weights?.[part] ?? 0) > 0);
    if (uses('gbm') && bundle.gbm === null) issue('gbm', 'the GBM serves, so its model is required');
    if (uses('probabilistic') && bundle.probabilistic === null) issue('probabilistic', 'the probabilistic model serves, so it is required');
  });

export interface ClvServingBundleJson {
  serving: ClvCandidate;
  horizonDays: number;
  probabilistic: ReturnType<ProbabilisticClv['toJSON']> | null;
  gbm: ReturnType<GbmClv['toJSON']> | null;
  blendWeights: BlendWeights | null;
  fallback: ClvFallback | null;
}

/** What a profile's CLV says, and how far to trust it (recorded in the profile's coverage.clv). */
export interface ClvServingCoverage {
  model: ClvCandidate;
  fallbackFrom: ClvCandidate | null;
  fitFlags: ClvFitFlag[];
  interval: { level: number; method: string };
}

export interface ClvBundlePrediction {
  /** From the serving model. */
  expectedNetRevenue: Float64Array;
  interval: ClvInterval;
  /** P(alive), expected orders, spend per order and next order: null when the probabilistic fit is flagged or failed. */
  probabilistic: ProbabilisticClvPrediction | null;
  coverage: ClvServingCoverage;
}

/**
 * The registry artifact of kind `clv`: the model the bake-off chose to serve and every fitted part it needs. The
 * probabilistic model is kept even when its fit is flagged (for the record), but then gives nothing: a degenerate
 * BG/NBD says everybody is alive. Holds a native booster when a GBM is part of it: dispose() when done.
 */
export class ClvServingBundle {
  readonly horizonDays: number;
  readonly blendWeights: BlendWeights | null;
  readonly fallback: ClvFallback | null;

  constructor(
    readonly serving: ClvCandidate,
    readonly probabilistic: ProbabilisticClv | null,
    readonly gbm: GbmClv | null,
    options: ClvServingOptions,
  ) {
    this.horizonDays = options.horizonDays;
    this.blendWeights = options.blendWeights ?? null;
    this.fallback = options.fallback ?? null;
    if (!(this.horizonDays > 0 && Number.isFinite(this.horizonDays)))
      throw new ValidationError('the horizon must be a positive number of days', 'horizonDays');
    if (serving === 'blend' && this.blendWeights === null)
      throw new ValidationError('the blend serves, so its weights are required', 'blendWeights');
    const uses = (part: BlendComponent) => serving === part || (serving === 'blend' && (this.blendWeights?.[part] ?? 0) > 0);
    if (uses('gbm') && gbm === null) throw new ValidationError('the GBM serves, so its model is required', 'gbm');
    if (uses('probabilistic') && probabilistic === null)
      throw new ValidationError('the probabilistic model serves, so it is required', 'probabilistic');
  }

  /** `legacyHorizonDays` is the horizon of a bundle written before bundles recorded their own (from the registry entry). */
  static fromJSON(json: unknown, legacyHorizonDays?: number): ClvServingBundle {
    const parsed = parseArtifact(jsonSchema, json, WHAT);
    const probabilistic =
      parsed.probabilistic === null ? null : restoreField('probabilistic', WHAT, () => ProbabilisticClv.fromJSON(parsed.probabilistic));
    const gbm = parsed.gbm === null ? null : restoreField('gbm', WHAT, () => GbmClv.fromJSON(parsed.gbm));
    const horizonDays = parsed.horizonDays ?? legacyHorizonDays;
    if (horizonDays === undefined) {
      gbm?.dispose();
      throw new ValidationError(`Invalid ${WHAT}, field "horizonDays": required`, 'horizonDays');
    }
    return new ClvServingBundle(parsed.serving, probabilistic, gbm, {
      horizonDays,
      blendWeights: (parsed.blendWeights ?? null) as BlendWeights | null,
      fallback: parsed.fallback ?? null,
    });
  }

  toJSON(): ClvServingBundleJson {
    return {
      serving: this.serving,
      horizonDays: this.horizonDays,
      probabilistic: this.probabilistic?.toJSON() ?? null,
      gbm: this.gbm?.toJSON() ?? null,
      blendWeights: this.blendWeights,
      fallback: this.fallback,
    };
  }

  /** The probabilistic fit's flags; a failed fit counts as not converged. */
  get fitFlags(): ClvFitFlag[] {
    return this.probabilistic?.fitState.flags ?? ['fit_did_not_converge'];
  }

  /** The serving model's expected net revenue with its per-customer interval, and the probabilistic details when sound. */
  predict(history: ClvHistory & RecentTransactionHistory, features: FeatureRows): ClvBundlePrediction {
    const fitFlags = this.fitFlags;
    const sound = fitFlags.length === 0 ? this.probabilistic : null;
    const served = servedClv({
      model: this.serving,
      history,
      horizonDays: this.horizonDays,
      probabilistic: sound,
      gbmForecast: this.gbm?.predict(features) ?? null,
      blendWeights: this.blendWeights,
    });
    return {
      expectedNetRevenue: served.expectedNetRevenue,
      interval: served.interval,
      probabilistic: sound?.predict(history) ?? null,
      coverage: {
        model: this.serving,
        fallbackFrom: this.fallback?.from ?? null,
        fitFlags,
        interval: { level: served.interval.level, method: served.interval.method },
      },
    };
  }

  dispose(): void {
    this.gbm?.dispose();
  }
}
