/**
 * RFM scoring: recency, frequency and monetary quintile scores (1–5) against cut points learned in fit,
 * the named segment from the R × FM grid, and a price-sensitive flag from the discount share.
 */
import { z } from 'zod';
import { NotFittedError, ValidationError } from '../../lib/errors';
import { envelopeFormat, type Envelope, type Estimator } from '../estimator';
import { assertFeatureMatrix, columnIndex, columnValues } from './feature-matrix';
import { learnQuintileCuts, quintileScore, reversedQuintileScore } from './quintile-cuts';
import { rfmSegment, type RfmSegment } from './rfm-segments';
import { DEFAULT_COLUMNS, type FeatureMatrix } from './types';

export interface RfmParams {
  recencyColumn: string;
  frequencyColumn: string;
  monetaryColumn: string;
  discountShareColumn: string;
  /** A customer whose discount share is at least this is flagged price-sensitive. */
  priceSensitiveThreshold: number;
}

export interface RfmScore {
  customerId: string;
  /** 5 = most recent fifth; a customer with no recency (never ordered) scores 1. */
  r: number;
  f: number;
  m: number;
  segment: RfmSegment;
  priceSensitive: boolean;
}

export interface RfmCuts {
  /** Ascending days-since-last-order cut points; scores are reversed (fewer days → higher R). */
  recency: number[];
  frequency: number[];
  monetary: number[];
}

export const DEFAULT_RFM_PARAMS: RfmParams = {
  recencyColumn: DEFAULT_COLUMNS.recency,
  frequencyColumn: DEFAULT_COLUMNS.frequency,
  monetaryColumn: DEFAULT_COLUMNS.monetary,
  discountShareColumn: DEFAULT_COLUMNS.discountShare,
  priceSensitiveThreshold: 0.3,
};

const paramsSchema = z.object({
  recencyColumn: z.string().min(1),
  frequencyColumn: z.string().min(1),
  monetaryColumn: z.string().min(1),
  discountShareColumn: z.string().min(1),
  priceSensitiveThreshold: z.number().finite(),
});

const cutsSchema = z.array(z.number().finite()).length(4);

const RFM_JSON = envelopeFormat('foresight.rfm', 1, {
  params: paramsSchema,
  cuts: z.object({ recency: cutsSchema, frequency: cutsSchema, monetary: cutsSchema }),
});

export interface RfmModelJson extends Envelope<typeof RFM_JSON.format, typeof RFM_JSON.version> {
  params: RfmParams;
  cuts: RfmCuts;
}

export class RfmModel implements Estimator<[FeatureMatrix], RfmModelJson> {
  readonly params: RfmParams;
  private learnedCuts?: RfmCuts;

  constructor(params: Partial<RfmParams> = {}) {
    const parsed = paramsSchema.safeParse({ ...DEFAULT_RFM_PARAMS, ...params });
    if (!parsed.success) throw new ValidationError(`invalid RFM parameters: ${parsed.error.message}`, 'params');
    this.params = parsed.data;
  }

  fit(matrix: FeatureMatrix): this {
    assertFeatureMatrix(matrix);
    this.learnedCuts = {
      recency: learnQuintileCuts(columnValues(matrix, this.params.recencyColumn), this.params.recencyColumn),
      frequency: learnQuintileCuts(columnValues(matrix, this.params.frequencyColumn), this.params.frequencyColumn),
      monetary: learnQuintileCuts(columnValues(matrix, this.params.monetaryColumn), this.params.monetaryColumn),
    };
    return this;
  }

  get cuts(): RfmCuts {
    if (!this.learnedCuts) throw new NotFittedError('RfmModel');
    return this.learnedCuts;
  }

  predict(matrix: FeatureMatrix): RfmScore[] {
    const cuts = this.cuts;
    assertFeatureMatrix(matrix);
    const { X, ncol } = matrix;
    const recency = columnIndex(matrix, this.params.recencyColumn);
    const frequency = columnIndex(matrix, this.params.frequencyColumn);
    const monetary = columnIndex(matrix, this.params.monetaryColumn);
    const discountShare = columnIndex(matrix, this.params.discountShareColumn);
    const scores: RfmScore[] = new Array(matrix.nrow);
    for (let i = 0; i < matrix.nrow; i++) {
      const row = i * ncol;
      const r = reversedQuintileScore(X[row + recency], cuts.recency);
      const f = quintileScore(X[row + frequency], cuts.frequency);
      const m = quintileScore(X[row + monetary], cuts.monetary);
      // NaN >= threshold is false: an unknown discount share is not evidence of price sensitivity.
      const priceSensitive = X[row + discountShare] >= this.params.priceSensitiveThreshold;
      scores[i] = { customerId: matrix.customerIds[i], r, f, m, segment: rfmSegment(r, f, m), priceSensitive };
    }
    return scores;
  }

  toJSON(): RfmModelJson {
    return RFM_JSON.wrap({ params: { ...this.params }, cuts: structuredClone(this.cuts) });
  }

  static fromJSON(json: unknown): RfmModel {
    const parsed = RFM_JSON.parse(json);
    const model = new RfmModel(parsed.params);
    model.learnedCuts = structuredClone(parsed.cuts);
    return model;
  }
}
