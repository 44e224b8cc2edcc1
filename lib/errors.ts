/**
 * The one error hierarchy of Foresight. Every error that a user can cause or fix is a ForesightError
 * with a stable `code`; api/errors.ts maps `httpStatus` to the HTTP response in one place, and the CLI
 * prints `message` without a stack trace.
 */
export class ForesightError extends Error {
  readonly code: string = 'internal';
  readonly httpStatus: number = 500;
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
}

export class ConflictError extends ForesightError {
  override readonly code = 'conflict';
  override readonly httpStatus = 409;
}

export class UnauthorizedError extends ForesightError {
  override readonly code = 'unauthorized';
  override readonly httpStatus = 401;
}

export class ForbiddenError extends ForesightError {
  override readonly code = 'forbidden';
  override readonly httpStatus = 403;
}

/** Configuration that fails validation at start-up. */
export class ConfigError extends ForesightError {
  override readonly code = 'invalid_config';
}

/** A required component (Postgres, Temporal, libxgboost) is missing or unhealthy. */
export class DependencyError extends ForesightError {
  override readonly code = 'dependency_unavailable';
  override readonly httpStatus = 503;
}

/** A model could not be fitted or used (e.g. XGBoost's own error, an optimiser that did not converge). */
export class ModelError extends ForesightError {
  override readonly code = 'model_error';
}
