import { z } from 'zod';
import { BehaviourEmbedding } from '../models/embeddings/behaviour';
import { BehaviourClusters } from '../models/segments/kmeans';
import { RfmModel } from '../models/segments/rfm';
import { estimatorJson, parseArtifact, restoreField } from './artifact-parsing';

const WHAT = 'segments bundle';

const jsonSchema = z.object({ rfm: estimatorJson, clusters: estimatorJson, embedding: estimatorJson }).strict();

export interface SegmentsBundleJson {
  rfm: ReturnType<RfmModel['toJSON']>;
  clusters: ReturnType<BehaviourClusters['toJSON']>;
  embedding: ReturnType<BehaviourEmbedding['toJSON']>;
}

/** The registry artifact of kind `segments`: RFM segments, behavioural clusters and the behaviour embedding. */
export class SegmentsBundle {
  constructor(
    readonly rfm: RfmModel,
    readonly clusters: BehaviourClusters,
    readonly embedding: BehaviourEmbedding,
  ) {}

  static fromJSON(json: unknown): SegmentsBundle {
    const parsed = parseArtifact(jsonSchema, json, WHAT);
    return new SegmentsBundle(
      restoreField('rfm', WHAT, () => RfmModel.fromJSON(parsed.rfm)),
      restoreField('clusters', WHAT, () => BehaviourClusters.fromJSON(parsed.clusters)),
      restoreField('embedding', WHAT, () => BehaviourEmbedding.fromJSON(parsed.embedding)),
    );
  }

  toJSON(): SegmentsBundleJson {
    return { rfm: this.rfm.toJSON(), clusters: this.clusters.toJSON(), embedding: this.embedding.toJSON() };
  }
}
