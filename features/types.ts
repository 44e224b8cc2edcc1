/**
 * The per-customer feature rows every Foresight model reads. A plain interface on purpose, in a module of its own:
 * the feature builder (snapshots.ts, which uses the database) produces it and the pure models only read it, so
 * neither depends on the other's code.
 */
export interface FeatureMatrix {
  customerIds: string[];
  featureNames: string[];
  /** Row-major, nrow × ncol; NaN where a feature has no value. */
  X: Float32Array;
  nrow: number;
  ncol: number;
}
