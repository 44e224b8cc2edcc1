import type { BetaGeoParameterName } from './bgnbd';
import type { FittedState } from './fitted-state';
import type { GammaGammaParameterName } from './gamma-gamma';

/**
 * Why a fitted CLV model is not to be trusted. A fit can converge (the gradient vanishes) and still be useless:
 * on a shop where customers do not seem to drop out, the BG/NBD's a and b run off towards 0 (a ≈ 1e-19 on a real
 * log), P(alive) is 1 for everybody, and the Hessian there is singular, so the fit has no standard errors. Any flag
 * keeps the model from serving.
 *
 * - `fit_did_not_converge`: the optimiser stopped without reaching a maximum (the fit threw a ModelError).
 * - `hessian_not_positive_definite`: no proper maximum, so no covariance.
 * - `standard_errors_missing`: no (finite) standard errors, so no interval can be derived from them.
 * - `parameter_at_bound`: a unit-free parameter below PARAMETER_LOWER_BOUND or above PARAMETER_UPPER_BOUND (BFGS on
 *   ln θ has no bounds of its own: a parameter "at the bound" is one running off to 0 or ∞).
 * - `bgnbd_dropout_degenerate`: a or b below DEGENERATE_BETA_SHAPE: the dropout probabilities' Beta(a, b) collapses onto
 *   0 and 1, i.e. (almost) nobody or (almost) everybody drops out after each purchase.
 * - `gamma_gamma_mean_undefined`: q <= 1, where the population mean spend p·v/(q − 1) does not exist.
 */
export type ClvFitFlag =
  | 'fit_did_not_converge'
  | 'hessian_not_positive_definite'
  | 'standard_errors_missing'
  | 'parameter_at_bound'
  | 'bgnbd_dropout_degenerate'
  | 'gamma_gamma_mean_undefined';

export const PARAMETER_LOWER_BOUND = 1e-6;
export const PARAMETER_UPPER_BOUND = 1e6;
/** Beta(a, b) shapes below this put almost all dropout probability mass at exactly 0 or 1. */
export const DEGENERATE_BETA_SHAPE = 1e-3;

// Only the unit-free shapes are checked against the bounds: α (time) and v (money) scale with the data's units.
const UNIT_FREE: readonly string[] = ['r', 'a', 'b', 'p', 'q'];

/** The flags of one fitted state; given (not fitted) parameters have no standard errors by design and are not flagged for it. */
function stateFlags<Name extends string>(state: FittedState<Name>): ClvFitFlag[] {
  const flags: ClvFitFlag[] = [];
  if (state.convergence !== null) {
    if (state.covariance === null) flags.push('hessian_not_positive_definite');
    const errors = state.standardErrors === null ? [] : Object.values<number>(state.standardErrors);
    if (errors.length === 0 || !errors.every((e) => Number.isFinite(e) && e >= 0)) flags.push('standard_errors_missing');
  }
  const atBound = Object.entries<number>(state.params).some(
    ([name, value]) => UNIT_FREE.includes(name) && !(value > PARAMETER_LOWER_BOUND && value < PARAMETER_UPPER_BOUND),
  );
  if (atBound) flags.push('parameter_at_bound');
  return flags;
}

/** Every flag of a BG/NBD + Gamma-Gamma fit, each once, in a stable order. */
export function probabilisticFitFlags(
  betaGeo: FittedState<BetaGeoParameterName>,
  gammaGamma: FittedState<GammaGammaParameterName>,
): ClvFitFlag[] {
  const flags = new Set<ClvFitFlag>([...stateFlags(betaGeo), ...stateFlags(gammaGamma)]);
  if (betaGeo.params.a < DEGENERATE_BETA_SHAPE || betaGeo.params.b < DEGENERATE_BETA_SHAPE) flags.add('bgnbd_dropout_degenerate');
  if (!(gammaGamma.params.q > 1)) flags.add('gamma_gamma_mean_undefined');
  return ORDER.filter((flag) => flags.has(flag));
}

const ORDER: readonly ClvFitFlag[] = [
  'fit_did_not_converge',
  'hessian_not_positive_definite',
  'standard_errors_missing',
  'parameter_at_bound',
  'bgnbd_dropout_degenerate',
  'gamma_gamma_mean_undefined',
];
