/**
 * Behavioural clusters: seeded k-means (ml-kmeans, k-means++ initialisation) on standardised features,
 * with cluster ids that persist across refits. A refit given the previous model matches its centroids to
 * the previous ones (minimum total distance, Hungarian algorithm) and reuses their ids; clusters left
 * unmatched get ids never used before.
 */
import { kmeans } from 'ml-kmeans';
import { z } from 'zod';
import { ModelError, NotFittedError, ValidationError } from '../../lib/errors';
import { envelopeFormat, type Envelope, type Estimator } from '../estimator';
import { describeCentroid } from './cluster-description';
import { minimumCostAssignment } from './hungarian';
import { Standardiser, type StandardiserJSON } from './standardiser';
import { DEFAULT_BEHAVIOUR_COLUMNS, DEFAULT_LOG_COLUMNS, type FeatureMatrix } from './types';

export interface BehaviourClustersParams {
  k: number;
  seed: number;
  columns: string[];
  /** Columns put through log1p before standardising (heavy-tailed counts and money). */
  logColumns: string[];
  /** k-means runs from different seeds (seed, seed + 1, …); the one with the lowest inertia is kept. */
  restarts: number;
  maxIterations: number;
  /**
   * A new centroid farther than this (in z-score units) from its matched previous centroid is treated as a
   * new cluster and gets a fresh id; null always reuses an id when one is free.
   */
  maxMatchDistance: number | null;
}

export interface BehaviourCluster {
  id: number;
  /** Customers assigned to it when fitted. */
  size: number;
  /** Centroid in z-scores, one per column in `params.columns`. */
  centroid: number[];
  description: string;
}

export interface FitOptions {
  /** The model fitted on the previous run, whose cluster ids should carry over. */
  previous?: BehaviourClusters;
}

export const DEFAULT_BEHAVIOUR_CLUSTERS_PARAMS: BehaviourClustersParams = {
  k: 6,
  seed: 42,
  columns: [...DEFAULT_BEHAVIOUR_COLUMNS],
  logColumns: [...DEFAULT_LOG_COLUMNS],
  // Several restarts make a poor local optimum unlikely; a refit landing in a different optimum would
  // move customers between clusters even when their behaviour did not change.
  restarts: 4,
  maxIterations: 100,
  maxMatchDistance: null,
};

const paramsSchema = z.object({
  k: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  columns: z.array(z.string().min(1)).min(1),
  logColumns: z.array(z.string().min(1)),
  restarts: z.number().int().positive(),
  maxIterations: z.number().int().positive(),
  maxMatchDistance: z.number().positive().nullable(),
});

const clusterSchema = z.object({
  id: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  centroid: z.array(z.number().finite()),
  description: z.string(),
});

const CLUSTERS_JSON = envelopeFormat('foresight.behaviour-clusters', 1, {
  params: paramsSchema,
  standardiser: z.unknown(),
  clusters: z.array(clusterSchema).min(1),
  nextId: z.number().int().nonnegative(),
});

export interface BehaviourClustersJson extends Envelope<typeof CLUSTERS_JSON.format, typeof CLUSTERS_JSON.version> {
  params: BehaviourClustersParams;
  standardiser: StandardiserJSON;
  clusters: BehaviourCluster[];
  nextId: number;
}

interface FittedClusters {
  standardiser: Standardiser;
  /** Sorted by id. */
  clusters: BehaviourCluster[];
  /** The id the next new cluster will get; ids of retired clusters are never reused. */
  nextId: number;
}

export class BehaviourClusters implements Estimator<[FeatureMatrix, FitOptions?], BehaviourClustersJson> {
  readonly params: BehaviourClustersParams;
  private fitted?: FittedClusters;

  constructor(params: Partial<BehaviourClustersParams> = {}) {
    const parsed = paramsSchema.safeParse({ ...DEFAULT_BEHAVIOUR_CLUSTERS_PARAMS, ...params });
    if (!parsed.success) throw new ValidationError(`invalid clustering parameters: ${parsed.error.message}`, 'params');
    this.params = parsed.data;
  }

  fit(matrix: FeatureMatrix, options: FitOptions = {}): this {
    const { k, seed, restarts, maxIterations } = this.params;
    if (matrix.nrow < k) throw new ValidationError(`k-means needs at least k = ${k} customers (got ${matrix.nrow})`, 'nrow');
    const standardiser = new Standardiser(this.params.columns, this.params.logColumns).fit(matrix);
    const points = toRows(standardiser.transform(matrix), standardiser.dimensions);

    let best: { centroids: number[][]; assignment: number[]; inertia: number } | undefined;
    for (let restart = 0; restart < restarts; restart++) {
      const result = kmeans(points, k, { initialization: 'kmeans++', seed: seed + restart, maxIterations });
      const inertia = withinClusterSquares(points, result.centroids, result.clusters);
      if (!best || inertia < best.inertia) best = { centroids: result.centroids, assignment: result.clusters, inertia };
    }
    if (!best) throw new ModelError('k-means produced no result');

    const sizes = new Array<number>(k).fill(0);
    for (const cluster of best.assignment) sizes[cluster]++;
    const { ids, nextId } = options.previous
      ? idsMatchingPrevious(best.centroids, standardiser, options.previous.state, this.params)
      : idsBySize(best.centroids, sizes);
    const clusters = best.centroids
      .map((centroid, c) => ({
        id: ids[c],
        size: sizes[c],
        centroid,
        description: describeCentroid(this.params.columns, centroid),
      }))
      .sort((a, b) => a.id - b.id);
    this.fitted = { standardiser, clusters, nextId };
    return this;
  }

  get clusters(): BehaviourCluster[] {
    return this.state.clusters.map((cluster) => ({ ...cluster, centroid: [...cluster.centroid] }));
  }

  /** The cluster id of each row of `matrix`: its nearest centroid after the learned standardisation. */
  predict(matrix: FeatureMatrix): Int32Array {
    const { standardiser, clusters } = this.state;
    const d = standardiser.dimensions;
    const points = standardiser.transform(matrix);
    const ids = new Int32Array(matrix.nrow);
    for (let i = 0; i < matrix.nrow; i++) {
      let bestDistance = Infinity;
      for (const cluster of clusters) {
        let distance = 0;
        for (let j = 0; j < d; j++) distance += (points[i * d + j] - cluster.centroid[j]) ** 2;
        if (distance < bestDistance) {
          bestDistance = distance;
          ids[i] = cluster.id;
        }
      }
    }
    return ids;
  }

  toJSON(): BehaviourClustersJson {
    const { standardiser, nextId } = this.state;
    return CLUSTERS_JSON.wrap({
      params: structuredClone(this.params),
      standardiser: standardiser.toJSON(),
      clusters: this.clusters,
      nextId,
    });
  }

  static fromJSON(json: unknown): BehaviourClusters {
    const parsed = CLUSTERS_JSON.parse(json);
    const model = new BehaviourClusters(parsed.params);
    const standardiser = Standardiser.fromJSON(parsed.standardiser);
    if (parsed.clusters.some((cluster) => cluster.centroid.length !== standardiser.dimensions)) {
      throw new ValidationError('saved clustering model has centroids of the wrong length', 'clusters');
    }
    model.fitted = { standardiser, clusters: structuredClone(parsed.clusters), nextId: parsed.nextId };
    return model;
  }

  private get state(): FittedClusters {
    if (!this.fitted) throw new NotFittedError('BehaviourClusters');
    return this.fitted;
  }
}

/** First run: id 0 is the largest cluster, so ids read in order of importance. Ties break on the centroid. */
function idsBySize(centroids: number[][], sizes: number[]): { ids: number[]; nextId: number } {
  const order = centroids.map((_, c) => c).sort((a, b) => sizes[b] - sizes[a] || compareLexicographic(centroids[a], centroids[b]));
  const ids = new Array<number>(centroids.length);
  order.forEach((c, rank) => {
    ids[c] = rank;
  });
  return { ids, nextId: centroids.length };
}

function idsMatchingPrevious(
  centroids: number[][],
  standardiser: Standardiser,
  previous: FittedClusters,
  params: BehaviourClustersParams,
): { ids: number[]; nextId: number } {
  const prevState = previous.standardiser.state;
  const sameFeatures =
    prevState.columns.length === params.columns.length &&
    prevState.columns.every((column, j) => column === params.columns[j] && prevState.logged[j] === standardiser.state.logged[j]);
  if (!sameFeatures) {
    throw new ValidationError('the previous model clustered different columns; cluster ids cannot carry over', 'previous');
  }
  // The two runs standardised with different means and stds: bring the old centroids into this run's z-space.
  const previousCentroids = previous.clusters.map((cluster) =>
    standardiser.fromFeatureScale(previous.standardiser.toFeatureScale(cluster.centroid)),
  );
  const distances = centroids.map((centroid) => previousCentroids.map((old) => euclidean(centroid, old)));
  const match = minimumCostAssignment(distances);
  let nextId = previous.nextId;
  const ids = centroids.map((_, c) => {
    const old = match[c];
    if (old < 0) return nextId++;
    const tooFar = params.maxMatchDistance !== null && distances[c][old] > params.maxMatchDistance;
    return tooFar ? nextId++ : previous.clusters[old].id;
  });
  return { ids, nextId };
}

function toRows(values: Float64Array, d: number): number[][] {
  const rows = new Array<number[]>(values.length / d);
  for (let i = 0; i < rows.length; i++) rows[i] = Array.from(values.subarray(i * d, (i + 1) * d));
  return rows;
}

function withinClusterSquares(points: number[][], centroids: number[][], assignment: number[]): number {
  let total = 0;
  for (let i = 0; i < points.length; i++) total += euclidean(points[i], centroids[assignment[i]]) ** 2;
  return total;
}

function euclidean(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += (a[j] - b[j]) ** 2;
  return Math.sqrt(sum);
}

function compareLexicographic(a: readonly number[], b: readonly number[]): number {
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return a[j] - b[j];
  return 0;
}
