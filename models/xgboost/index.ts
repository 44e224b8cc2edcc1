export { Booster } from './booster';
export type {
  BoosterParams,
  BoosterParamValue,
  EvalSet,
  Prediction,
  PredictionType,
  PredictOptions,
  TrainingSummary,
  TrainOptions,
} from './booster';
export { DMatrix } from './dmatrix';
export type { DMatrixOptions } from './dmatrix';
export { isMaximisedMetric } from './early-stopping';
export type { IterationEvaluation, MetricValue } from './evaluation';
export { XGBoostModel } from './estimator';
export type { EvalData, FitOptions, ResolvedXGBoostModelOptions, XGBoostModelOptions, XGBoostModelState } from './estimator';
export { loadXGBoost } from './library';
export type { XGBoostLibrary, XGBoostVersion } from './library';
