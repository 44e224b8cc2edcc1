/**
 * The churn bake-off's candidates, simplest first, each fitted on rows of earlier cutoffs and calibrated
 * (isotonic) on the pooled rows of later ones, so that every candidate's output is a probability and they compare
 * like with like: the boosted model (./model.ts), a regularised logistic regression (./logistic.ts), BG/NBD's
 * P(no purchase in H) (./no-purchase-probability.ts), the RFM heuristic, days since the last order and the
 * "no order for over H days" rule (./baselines.ts). The first four of those rules need nothing but the shop's
 * orders; they are the baselines the models must beat.
 */
import { z } from 'zod';
import { ValidationError } from '../../lib/errors';
import { calibratorFromJSON, IsotonicCalibrator, type Calibrator, type CalibratorJSON } from '../calibration';
import type { BetaGeoParams } from '../clv/bgnbd';
import type { FeatureMatrix } from '../../features/types';
import { RecencyBaseline, RecencyRuleBaseline, RfmHeuristicBaseline } from './baselines';
import { LogisticChurnModel } from './logistic';
import { ChurnModel, type ChurnModelJSON, type ChurnModelOptions } from './model';
import { noPurchaseProbabilities, type PurchaseHistories } from './no-purchase-probability';

/** Simplest first: a tie in the bake-off goes to the earliest. */
export const CHURN_CANDIDATES = ['recency-rule', 'recency', 'rfm', 'bgnbd', 'logistic', 'xgboost'] as const;
export type ChurnCandidateName = (typeof CHURN_CANDIDATES)[number];
/** Rules a shop could follow without a model. */
export const CHURN_BASELINES: readonly ChurnCandidateName[] = ['recency-rule', 'recency', 'rfm', 'bgnbd'];

export const CANDIDATE_LABELS: Readonly<Record<ChurnCandidateName, string>> = {
  'recency-rule': 'No order for over H days',
  recency: 'Days since last order',
  rfm: 'RFM heuristic',
  bgnbd: 'BG/NBD P(no purchase in H)',
  logistic: 'Logistic regression (L1/L2)',
  xgboost: 'XGBoost',
};

/** A feature matrix with BG/NBD's P(no purchase in H) per row (NaN where BG/NBD could not be fitted). */
export interface ChurnRows extends FeatureMatrix {
  bgnbdNoPurchase: Float64Array;
}

export interface LabelledChurnRows extends ChurnRows {
  y: Uint8Array;
}

export interface CandidateFitOptions {
  horizonDays: number;
  xgboost?: ChurnModelOptions['xgboost'];
}

/** What a fitted candidate carries between processes. */
export interface ChurnCandidateJSON {
  candidate: ChurnCandidateName;
  /** The calibrator of the candidate's raw scores; null for XGBoost, whose model calibrates itself. */
  calibrator: CalibratorJSON | null;
  /** What the raw score needs: the RFM cuts, the logistic model, the boosted model; null for the rules. */
  state: unknown;
}

export interface ChurnCandidate {
  readonly name: ChurnCandidateName;
  /** Calibrated churn probabilities, one per row. */
  predictProba(rows: ChurnRows): Float64Array;
  toJSON(): ChurnCandidateJSON;
  dispose(): void;
}

type RawScorer = { score(rows: ChurnRows): Float64Array; state: unknown; dispose(): void };

function rawScorer(
  name: Exclude<ChurnCandidateName, 'xgboost'>,
  options: CandidateFitOptions,
  fit?: LabelledChurnRows,
  state?: unknown,
): RawScorer {
  const none = { state: null, dispose: () => undefined };
  switch (name) {
    case 'recency-rule': {
      const rule = new RecencyRuleBaseline(options.horizonDays);
      return { ...none, score: (rows) => rule.score(rows) };
    }
    case 'recency': {
      const recency = new RecencyBaseline();
      return { ...none, score: (rows) => recency.score(rows) };
    }
    case 'bgnbd':
      return {
        ...none,
        score: (rows) => {
          if (!rows.bgnbdNoPurchase.every(Number.isFinite)) {
            throw new ValidationError('BG/NBD P(no purchase in H) is undefined for some customers: the fit failed or degenerated', 'bgnbd');
          }
          return Float64Array.from(rows.bgnbdNoPurchase);
        },
      };
    case 'rfm': {
      const rfm = fit ? new RfmHeuristicBaseline().fit(fit) : RfmHeuristicBaseline.fromJSON(state);
      return { state: rfm.toJSON(), score: (rows) => rfm.score(rows), dispose: () => undefined };
    }
    case 'logistic': {
      const model = fit ? new LogisticChurnModel().fit(fit.X, fit.nrow, fit.featureNames, fit.y) : LogisticChurnModel.fromJSON(state);
      return { score: (rows) => model.predict(rows.X, rows.nrow), state: model.toJSON(), dispose: () => model.dispose() };
    }
  }
}

class CalibratedCandidate implements ChurnCandidate {
  constructor(
    readonly name: Exclude<ChurnCandidateName, 'xgboost'>,
    private readonly scorer: RawScorer,
    private readonly calibrator: Calibrator,
  ) {}

  predictProba(rows: ChurnRows): Float64Array {
    return this.calibrator.predict(this.scorer.score(rows));
  }

  toJSON(): ChurnCandidateJSON {
    return { candidate: this.name, calibrator: this.calibrator.toJSON(), state: this.scorer.state };
  }

  dispose(): void {
    this.scorer.dispose();
  }
}

export class BoostedCandidate implements ChurnCandidate {
  readonly name = 'xgboost';
  constructor(readonly model: ChurnModel) {}

  predictProba(rows: ChurnRows): Float64Array {
    return this.model.predictProba(rows.X, rows.nrow);
  }

  toJSON(): ChurnCandidateJSON {
    return { candidate: 'xgboost', calibrator: null, state: this.model.toJSON() };
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** The candidate learned on `fit` (rows of the earlier cutoffs) and calibrated on `calibration` (the later ones). */
export function fitChurnCandidate(
  name: ChurnCandidateName,
  fit: LabelledChurnRows,
  calibration: LabelledChurnRows,
  options: CandidateFitOptions,
): ChurnCandidate {
  if (name === 'xgboost') {
    return new BoostedCandidate(new ChurnModel({ horizonDays: options.horizonDays, xgboost: options.xgboost }).fit(fit, calibration));
  }
  const scorer = rawScorer(name, options, fit);
  try {
    const calibrator = new IsotonicCalibrator().fit(scorer.score(calibration), calibration.y);
    return new CalibratedCandidate(name, scorer, calibrator);
  } catch (error) {
    scorer.dispose();
    throw error;
  }
}

export function churnCandidateFromJSON(json: ChurnCandidateJSON, horizonDays: number): ChurnCandidate {
  if (json.candidate === 'xgboost') return new BoostedCandidate(ChurnModel.fromJSON(json.state));
  if (json.calibrator === null) throw new ValidationError(`Churn candidate ${json.candidate} has no calibrator`, 'calibrator');
  return new CalibratedCandidate(
    json.candidate,
    rawScorer(json.candidate, { horizonDays }, undefined, json.state),
    calibratorFromJSON(json.calibrator),
  );
}

/**
 * What the registry keeps for churn: the candidate that won the shop's bake-off, and the boosted model beside it
 * (the same one when it won), whose feature contributions explain every customer's risk in plain language whichever
 * candidate serves the probability.
 */
export interface ServedChurnModelJSON {
  format: typeof SERVED_FORMAT;
  serving: ChurnCandidateName;
  horizonDays: number;
  candidate: ChurnCandidateJSON;
  explainer: ChurnModelJSON;
  /** BG/NBD fitted at the training as-of (time in days), for the bgnbd candidate's input; null if the fit failed. */
  betaGeo: BetaGeoParams | null;
}

const SERVED_FORMAT = 'foresight.churn-served.v1';

const servedSchema = z
  .object({
    format: z.literal(SERVED_FORMAT),
    serving: z.enum(CHURN_CANDIDATES),
    horizonDays: z.number().positive(),
    candidate: z.object({ candidate: z.enum(CHURN_CANDIDATES), calibrator: z.unknown(), state: z.unknown() }).strict(),
    explainer: z.unknown(),
    betaGeo: z.object({ r: z.number(), alpha: z.number(), a: z.number(), b: z.number() }).nullable(),
  })
  .strict();

export class ServedChurnModel {
  private constructor(
    readonly serving: ChurnCandidateName,
    readonly horizonDays: number,
    readonly candidate: ChurnCandidate,
    /** The boosted model: drivers and risk bands. */
    readonly explainer: ChurnModel,
    readonly betaGeo: BetaGeoParams | null,
  ) {}

  static fromJSON(json: unknown): ServedChurnModel {
    const parsed = servedSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ValidationError(`Invalid churn artifact: ${issue.path.join('.') || '(root)'}: ${issue.message}`, 'artifact');
    }
    const state = parsed.data;
    const explainer = ChurnModel.fromJSON(state.explainer);
    const candidate =
      state.serving === 'xgboost'
        ? new BoostedCandidate(explainer)
        : churnCandidateFromJSON(state.candidate as ChurnCandidateJSON, state.horizonDays);
    return new ServedChurnModel(state.serving, state.horizonDays, candidate, explainer, state.betaGeo);
  }

  /** The JSON of a fitted winner, its explainer (the winner itself when it is XGBoost) and the BG/NBD fit. */
  static toJSON(
    candidate: ChurnCandidate,
    explainer: ChurnModel,
    horizonDays: number,
    betaGeo: BetaGeoParams | null,
  ): ServedChurnModelJSON {
    const explainerJson = explainer.toJSON();
    return {
      format: SERVED_FORMAT,
      serving: candidate.name,
      horizonDays,
      candidate: candidate.name === 'xgboost' ? { candidate: 'xgboost', calibrator: null, state: null } : candidate.toJSON(),
      explainer: explainerJson,
      betaGeo,
    };
  }

  /** Whether predictProba needs the customers' purchase histories (for BG/NBD). */
  get needsPurchaseHistories(): boolean {
    return this.serving === 'bgnbd';
  }

  predictProba(matrix: FeatureMatrix, histories?: PurchaseHistories): Float64Array {
    let bgnbdNoPurchase: Float64Array = new Float64Array(matrix.nrow).fill(NaN);
    if (this.needsPurchaseHistories) {
      if (!histories || !this.betaGeo)
        throw new ValidationError('The BG/NBD churn candidate needs purchase histories and a BG/NBD fit', 'histories');
      bgnbdNoPurchase = noPurchaseProbabilities(this.betaGeo, histories, this.horizonDays);
    }
    return this.candidate.predictProba({ ...matrix, bgnbdNoPurchase });
  }

  dispose(): void {
    this.candidate.dispose();
    this.explainer.dispose();
  }
}

/**
 * Fits the winner of a bake-off for serving, and the boosted model beside it as the explainer (one fit when the
 * winner is XGBoost), and returns their JSON; nothing native outlives the call.
 */
export function fitServedChurnModel(
  serving: ChurnCandidateName,
  fit: LabelledChurnRows,
  calibration: LabelledChurnRows,
  options: CandidateFitOptions,
  betaGeo: BetaGeoParams | null,
): ServedChurnModelJSON {
  const explainer = fitChurnCandidate('xgboost', fit, calibration, options) as BoostedCandidate;
  try {
    if (serving === 'xgboost') return ServedChurnModel.toJSON(explainer, explainer.model, options.horizonDays, betaGeo);
    const candidate = fitChurnCandidate(serving, fit, calibration, options);
    try {
      return ServedChurnModel.toJSON(candidate, explainer.model, options.horizonDays, betaGeo);
    } finally {
      candidate.dispose();
    }
  } finally {
    explainer.dispose();
  }
}
