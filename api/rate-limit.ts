import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RateLimitedError } from '../lib/errors';

/**
 * At most `perSecond` requests per second per API key (a fixed one-second window, in this process's memory), for
 * routes expensive enough that one caller could starve the others. Placed after allow(), which names the key.
 * Beyond the limit: 429 `rate_limited` with Retry-After.
 */
export function perKeyRateLimit(perSecond: number, what: string): RequestHandler {
  return rateLimit({
    windowMs: 1000,
    limit: perSecond,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (_req, res) => `key:${res.locals.principal!.keyId}`,
    handler: (_req, _res, next) => next(new RateLimitedError(`Too many requests to ${what}: at most ${perSecond} per second per API key`)),
  });
}
