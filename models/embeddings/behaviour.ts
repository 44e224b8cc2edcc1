/**
 * A fixed-width behaviour embedding per customer: the principal components (ml-pca) of the standardised
 * behavioural features, plus the category-mix columns when the matrix has them.
 *
 * Width: always `dimensions` (16) so stored vectors and the similarity index never change shape. With fewer
 * input columns than that there are only as many components as columns; the remaining dimensions are 0.
 * Zeros change neither dot products nor norms, so cosine similarity is unaffected.
 *
 * Sign: an eigenvector's sign is arbitrary, so each component is flipped to make its largest loading
 * positive; refits on the same data then give the same vectors.
 */
import { PCA } from 'ml-pca';
import { Matrix } from 'ml-matrix';
import { z } from 'zod';
import { NotFittedError, ValidationError } from '../../lib/errors';
import { envelopeFormat, type Envelope, type Estimator } from '../estimator';
import { Standardiser, type StandardiserJSON } from '../segments/standardiser';
import { DEFAULT_BEHAVIOUR_COLUMNS, DEFAULT_LOG_COLUMNS, type FeatureMatrix } from '../segments/types';

export interface BehaviourEmbeddingParams {
  dimensions: number;
  columns: string[];
  logColumns: string[];
  /** Every matrix column whose name starts with this is a category-mix share and is embedded too. */
  categoryMixPrefix: string;
}

export const DEFAULT_BEHAVIOUR_EMBEDDING_PARAMS: BehaviourEmbeddingParams = {
  dimensions: 16,
  columns: [...DEFAULT_BEHAVIOUR_COLUMNS],
  logColumns: [...DEFAULT_LOG_COLUMNS],
  categoryMixPrefix: 'category_share_',
};

const paramsSchema = z.object({
  dimensions: z.number().int().positive(),
  columns: z.array(z.string().min(1)).min(1),
  logColumns: z.array(z.string().min(1)),
  categoryMixPrefix: z.string().min(1),
});

const EMBEDDING_JSON = envelopeFormat('foresight.behaviour-embedding', 1, {
  params: paramsSchema,
  standardiser: z.unknown(),
  components: z.array(z.array(z.number().finite())),
  explainedVarianceRatio: z.array(z.number().finite()),
});

export interface BehaviourEmbeddingJson extends Envelope<typeof EMBEDDING_JSON.format, typeof EMBEDDING_JSON.version> {
  params: BehaviourEmbeddingParams;
  standardiser: StandardiserJSON;
  components: number[][];
  explainedVarianceRatio: number[];
}

interface FittedEmbedding {
  standardiser: Standardiser;
  /** Principal axes, strongest first; each has one loading per standardised column. At most `dimensions`. */
  components: number[][];
  /** Share of the standardised variance along each output dimension (0 for padding). */
  explainedVarianceRatio: number[];
}

export class BehaviourEmbedding implements Estimator<[FeatureMatrix], BehaviourEmbeddingJson> {
  readonly params: BehaviourEmbeddingParams;
  private fitted?: FittedEmbedding;

  constructor(params: Partial<BehaviourEmbeddingParams> = {}) {
    const parsed = paramsSchema.safeParse({ ...DEFAULT_BEHAVIOUR_EMBEDDING_PARAMS, ...params });
    if (!parsed.success) throw new ValidationError(`invalid embedding parameters: ${parsed.error.message}`, 'params');
    this.params = parsed.data;
  }

  fit(matrix: FeatureMatrix): this {
    const categoryMix = matrix.featureNames.filter((name) => name.startsWith(this.params.categoryMixPrefix));
    const columns = [...new Set([...this.params.columns, ...categoryMix])];
    const standardiser = new Standardiser(columns, this.params.logColumns).fit(matrix);
    const d = standardiser.dimensions;
    const z = standardiser.transform(matrix);

    // PCA from the d × d covariance rather than an SVD of the n × d data: one pass, memory independent of n.
    // The standardised columns have mean 0 by construction, so ZᵀZ / (n − 1) is their covariance.
    const products = new Float64Array(d * d);
    for (let i = 0; i < matrix.nrow; i++) {
      for (let a = 0; a < d; a++) {
        const za = z[i * d + a];
        for (let b = a; b < d; b++) products[a * d + b] += za * z[i * d + b];
      }
    }
    const divisor = Math.max(matrix.nrow - 1, 1);
    const covariance = Matrix.zeros(d, d);
    for (let a = 0; a < d; a++) {
      for (let b = a; b < d; b++) {
        covariance.set(a, b, products[a * d + b] / divisor);
        covariance.set(b, a, products[a * d + b] / divisor);
      }
    }
    const pca = new PCA(covariance, { isCovarianceMatrix: true });
    const axes = pca.getEigenvectors();
    const variances = pca.getEigenvalues().map((v) => Math.max(v, 0));
    const totalVariance = variances.reduce((sum, v) => sum + v, 0);

    const kept = Math.min(d, this.params.dimensions);
    const components: number[][] = [];
    for (let c = 0; c < kept; c++) components.push(withLargestLoadingPositive(axes.getColumn(c)));
    const explainedVarianceRatio = Array.from({ length: this.params.dimensions }, (_, c) =>
      c < kept && totalVariance > 0 ? variances[c] / totalVariance : 0,
    );
    this.fitted = { standardiser, components, explainedVarianceRatio };
    return this;
  }

  get explainedVarianceRatio(): number[] {
    return [...this.state.explainedVarianceRatio];
  }

  /** Row-major nrow × dimensions embedding, aligned with matrix.customerIds. */
  transform(matrix: FeatureMatrix): Float32Array {
    const { standardiser, components } = this.state;
    const d = standardiser.dimensions;
    const width = this.params.dimensions;
    const z = standardiser.transform(matrix);
    const out = new Float32Array(matrix.nrow * width);
    for (let i = 0; i < matrix.nrow; i++) {
      for (let c = 0; c < components.length; c++) {
        const axis = components[c];
        let projection = 0;
        for (let j = 0; j < d; j++) projection += z[i * d + j] * axis[j];
        out[i * width + c] = projection;
      }
    }
    return out;
  }

  toJSON(): BehaviourEmbeddingJson {
    const { standardiser, components, explainedVarianceRatio } = this.state;
    return EMBEDDING_JSON.wrap({
      params: structuredClone(this.params),
      standardiser: standardiser.toJSON(),
      components: structuredClone(components),
      explainedVarianceRatio: [...explainedVarianceRatio],
    });
  }

  static fromJSON(json: unknown): BehaviourEmbedding {
    const parsed = EMBEDDING_JSON.parse(json);
    const { params, components, explainedVarianceRatio } = parsed;
    const standardiser = Standardiser.fromJSON(parsed.standardiser);
    const consistent =
      components.length <= params.dimensions &&
      components.every((axis) => axis.length === standardiser.dimensions) &&
      explainedVarianceRatio.length === params.dimensions;
    if (!consistent) throw new ValidationError('saved behaviour embedding has components of the wrong shape', 'components');
    const model = new BehaviourEmbedding(params);
    model.fitted = { standardiser, components: structuredClone(components), explainedVarianceRatio: [...explainedVarianceRatio] };
    return model;
  }

  private get state(): FittedEmbedding {
    if (!this.fitted) throw new NotFittedError('BehaviourEmbedding');
    return this.fitted;
  }
}

function withLargestLoadingPositive(axis: number[]): number[] {
  let largest = 0;
  for (let j = 1; j < axis.length; j++) if (Math.abs(axis[j]) > Math.abs(axis[largest])) largest = j;
  return axis[largest] < 0 ? axis.map((v) => -v) : axis;
}
