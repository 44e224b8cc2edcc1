import { z } from 'zod';
import { ModelError } from '../../lib/errors';
import { parseOrThrow } from '../estimator';
import { maximizeLikelihood, type Convergence, type LogLikelihood, type MaximumLikelihoodOptions } from './maximum-likelihood';

/** What a fitted CLV model has learned: its parameters and how well they are determined. */
export interface FittedState<Name extends string> {
  params: Record<Name, number>;
  /** Asymptotic standard errors; null when the Hessian was not positive definite or the params were given, not fitted. */
  standardErrors: Record<Name, number> | null;
  /** Covariance of the estimates, rows and columns in the model's parameter order; null as for standardErrors. */
  covariance: number[][] | null;
  /** null when the params were given rather than fitted. */
  convergence: Convergence | null;
  /** Total weight (number of customers) fitted on; 0 when the params were given. */
  customers: number;
}

export const DEFAULT_FIT_OPTIONS: MaximumLikelihoodOptions = {
  penalizer: 0,
  maxIterations: 500,
  gradientTolerance: 1e-7,
  stalledGradientTolerance: 1e-5,
};

export const fitOptionsSchema = z.object({
  penalizer: z.number().min(0),
  maxIterations: z.number().int().positive(),
  gradientTolerance: z.number().positive(),
  stalledGradientTolerance: z.number().positive().optional(),
});

/** Validated fit options with defaults filled in. */
export function resolveFitOptions(options: Partial<MaximumLikelihoodOptions>): MaximumLikelihoodOptions {
  return parseOrThrow(fitOptionsSchema, { ...DEFAULT_FIT_OPTIONS, ...options }, 'fit options');
}

/** Fits the named parameters by maximum likelihood; a fit that does not converge is a ModelError. */
export function fitNamedParameters<Name extends string>(
  modelName: string,
  names: readonly Name[],
  logLikelihood: LogLikelihood,
  initial: Record<Name, number>,
  totalWeight: number,
  options: MaximumLikelihoodOptions,
): FittedState<Name> {
  const estimate = maximizeLikelihood(
    logLikelihood,
    names.map((name) => initial[name]),
    totalWeight,
    options,
  );
  const { convergence } = estimate;
  if (!convergence.converged) {
    const hint =
      convergence.reason === 'line-search-failed'
        ? 'the objective cannot be decreased further in double precision: raise gradientTolerance'
        : 'raise maxIterations or add a small penalizer';
    throw new ModelError(
      `${modelName} fit did not converge (${convergence.reason} after ${convergence.iterations} iterations, ` +
        `gradient ${convergence.gradientNorm.toExponential(2)}): ${hint}`,
      { convergence, params: named(names, estimate.params) },
    );
  }
  return {
    params: named(names, estimate.params),
    standardErrors: estimate.standardErrors && named(names, estimate.standardErrors),
    covariance: estimate.covariance,
    convergence,
    customers: totalWeight,
  };
}

export function named<Name extends string>(names: readonly Name[], values: readonly number[]): Record<Name, number> {
  return Object.fromEntries(names.map((name, i) => [name, values[i]])) as Record<Name, number>;
}

const convergenceSchema = z.object({
  converged: z.boolean(),
  reason: z.enum(['gradient-tolerance', 'precision-limit', 'max-iterations', 'line-search-failed']),
  iterations: z.number().int().nonnegative(),
  functionEvaluations: z.number().int().nonnegative(),
  logLikelihood: z.number(),
  gradientNorm: z.number().nonnegative(),
});

/** zod schema of a serialised FittedState whose params are the given positive numbers. */
export function fittedStateSchema<Name extends string>(names: readonly Name[]) {
  const positive = z.object(Object.fromEntries(names.map((name) => [name, z.number().positive()])) as Record<Name, z.ZodNumber>).strict();
  return z.object({
    params: positive,
    standardErrors: positive.nullable(),
    covariance: z.array(z.array(z.number()).length(names.length)).length(names.length).nullable(),
    convergence: convergenceSchema.nullable(),
    customers: z.number().nonnegative(),
  });
}
