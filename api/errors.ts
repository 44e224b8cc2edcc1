import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { classifyError, ConflictError, DependencyError, ForesightError, NotFoundError, ValidationError } from '../lib/errors';

/**
 * The one place that turns errors into HTTP responses: `{ error: { code, message, field?, issues?, requestId } }`
 * (`issues`: every field at fault, `[{field, message}]`, where the validation names more than one).
 * Foresight's own errors keep their status and message; body-parser's client errors keep their status; errors from
 * below (pg, knex) are classified: the database unavailable, slow or out of connections is a 503
 * `dependency_unavailable` with Retry-After, a unique violation a 409; anything else is a 500. Classified and unknown
 * errors get a generic message and the request id to find the logged details, never the cause or a stack trace.
 */
interface ErrorBody {
  code: string;
  message: string;
  field?: string;
  issues?: { field: string; message: string }[];
  requestId: string;
}

// body-parser's errors (http-errors) carry a `type` and a 4xx `status`.
interface BodyParserError {
  type: string;
  status: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  const e = err as Partial<BodyParserError> | null;
  return typeof e?.type === 'string' && typeof e.status === 'number' && e.status >= 400 && e.status < 500;
}

function bodyParserError(err: BodyParserError): Omit<ErrorBody, 'requestId'> {
  if (err.type === 'entity.parse.failed') return { code: 'malformed_json', message: 'The request body is not valid JSON' };
  if (err.type === 'entity.too.large') return { code: 'payload_too_large', message: 'The request body is too large' };
  return { code: 'bad_request', message: `The request body could not be read (${err.type})` };
}

// The router's error for a path parameter that is not valid percent-encoding (`/customer/profile/%E0%A4%A`).
function isUndecodablePath(err: unknown): boolean {
  return err instanceof URIError && (err as { status?: unknown }).status === 400;
}

export const notFound: RequestHandler = (req) => {
  throw new NotFoundError(`No route ${req.method} ${req.path}`);
};

// The caller learns what happened and what to do, not the driver's message (hosts, ports, constraint names).
function genericMessage(classified: ForesightError): string | undefined {
  if (classified instanceof DependencyError) return 'The database is unavailable or too slow to answer; retry shortly';
  if (classified instanceof ConflictError) return 'A concurrent change conflicts with this one; reload and retry';
  return undefined;
}

function toResponse(err: unknown, requestId: string): { status: number; body: ErrorBody } {
  if (err instanceof ForesightError) {
    const body: ErrorBody = { code: err.code, message: err.message, requestId };
    if (err instanceof ValidationError && err.field) body.field = err.field;
    if (err instanceof ValidationError && Array.isArray(err.details?.issues)) body.issues = err.details.issues as ErrorBody['issues'];
    return { status: err.httpStatus, body };
  }
  if (isBodyParserError(err)) return { status: err.status, body: { ...bodyParserError(err), requestId } };
  if (isUndecodablePath(err)) {
    return {
      status: 400,
      body: { code: 'invalid_input', message: 'The request path is not valid percent-encoding', field: 'path', requestId },
    };
  }
  const classified = classifyError(err);
  const message = genericMessage(classified);
  if (message) return { status: classified.httpStatus, body: { code: classified.code, message, requestId } };
  return { status: 500, body: { code: 'internal', message: 'Internal error; quote the request id when reporting it', requestId } };
}

/** Seconds after which a client may retry a 503 (the pool's acquire timeout is shorter) or a 429. */
const RETRY_AFTER_SECONDS = '1';

/** Unexpected errors are logged in full with their request id; 401 and 403 as warnings (who tried what). */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    const { status, body } = toResponse(err, res.locals.requestId);
    const logger = res.locals.log ?? log.child({ requestId: body.requestId });
    const where = { method: req.method, path: req.path, actor: res.locals.principal?.name };
    if (status >= 500) logger.error({ ...where, err }, 'request failed');
    else if (status === 401 || status === 403) logger.warn({ ...where, status, reason: body.message }, 'access denied');
    // A response already under way cannot change status: Express's default handler closes the connection.
    if (res.headersSent) return next(err);
    // The rate limiter sets its own, exact, Retry-After before handing over its 429.
    if (status === 503 || (status === 429 && !res.get('retry-after'))) res.set('Retry-After', RETRY_AFTER_SECONDS);
    res.status(status).json({ error: body });
  };
}
