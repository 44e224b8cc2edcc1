/**
 * The one error hierarchy of Foresight. Every error that a user can cause or fix is a ForesightError
 * with a stable `code`. Each door maps it in one place: api/errors.ts to the HTTP status (`httpStatus`),
 * cli/main.ts to the exit code, activities/failures.ts to Temporal's retry decision (`retryable`).
 */
export class ForesightError extends Error {
  readonly code: string = 'internal';
  readonly httpStatus: number = 500;
  /** Whether trying the same thing again may succeed (a component was down), as opposed to bad input or state. */
  readonly retryable: boolean = true;
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input from a caller: names the field, row or parameter at fault. */
export class ValidationError extends ForesightError {
  override readonly code = 'invalid_input';
  override readonly httpStatus = 400;
  override readonly retryable = false;
  constructor(
    message: string,
    readonly field?: string,
    details?: Record<string, unknown>,
  ) {
    super(message, { ...details, ...(field ? { field } : {}) });
  }
}

export class NotFoundError extends ForesightError {
  override readonly code = 'not_found';
  override readonly httpStatus = 404;
  override readonly retryable = false;
}

export class ConflictError extends ForesightError {
  override readonly code = 'conflict';
  override readonly httpStatus = 409;
  override readonly retryable = false;
}

export class UnauthorizedError extends ForesightError {
  override readonly code = 'unauthorized';
  override readonly httpStatus = 401;
  override readonly retryable = false;
}

export class ForbiddenError extends ForesightError {
  override readonly code = 'forbidden';
  override readonly httpStatus = 403;
  override readonly retryable = false;
}

/** A caller over its request rate: retryable after the delay the API names in Retry-After. */
export class RateLimitedError extends ForesightError {
  override readonly code = 'rate_limited';
  override readonly httpStatus = 429;
}

/** Configuration that fails validation at start-up. */
export class ConfigError extends ForesightError {
  override readonly code = 'invalid_config';
  override readonly retryable = false;
}

/** A required component (Postgres, Temporal, libxgboost) is missing or unhealthy. */
export class DependencyError extends ForesightError {
  override readonly code = 'dependency_unavailable';
  override readonly httpStatus = 503;
}

/** A model could not be fitted or used (e.g. XGBoost's own error, an optimiser that did not converge). */
export class ModelError extends ForesightError {
  override readonly code: string = 'model_error';
  override readonly retryable = false;
}

/** An estimator used (predict, toJSON, …) before fit() or fromJSON(), or after dispose() freed what it learned. */
export class NotFittedError extends ModelError {
  override readonly code = 'not_fitted';
  constructor(readonly estimator: string) {
    super(`${estimator} is not fitted: call fit() or fromJSON() first`, { estimator });
  }
}

/** Transient database conditions: the server is down or restarting, the connection dropped, or a retry may win. */
const TRANSIENT_PG_CLASSES = ['08', '53', '57P']; // connection exception, insufficient resources, operator intervention
// serialization failure, deadlock, and query_canceled: a statement_timeout or an administrator's cancel (the API's
// connections have a statement timeout, so a database too slow to answer is as unavailable as one that is down).
const TRANSIENT_PG_CODES = new Set(['40001', '40P01', '57014']);
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * Foresight's error for anything thrown: its own errors as they are; a database that is unavailable becomes a
 * (retryable) DependencyError, a unique violation a ConflictError; anything else stays an internal error.
 */
export function classifyError(err: unknown): ForesightError {
  if (err instanceof ForesightError) return err;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (TRANSIENT_NODE_CODES.has(code) || TRANSIENT_PG_CODES.has(code) || TRANSIENT_PG_CLASSES.some((c) => code.startsWith(c)))
    return new DependencyError(`Database unavailable: ${message}`, { cause: code });
  if (/Connection terminated|Knex: Timeout acquiring a connection/.test(message))
    return new DependencyError(`Database unavailable: ${message}`);
  if (code === '23505') return new ConflictError(`Conflicting write: ${message}`, { cause: code });
  return new ForesightError(message);
}
