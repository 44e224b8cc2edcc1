import type { RequestHandler } from 'express';
import { rateLimit, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import { RateLimitedError } from '../lib/errors';

/**
 * A fixed window per key, in this process's memory, whose increment answers with the count *at that increment*.
 * Why not express-rate-limit's own MemoryStore: its increment resolves to its live counter object, and the middleware
 * reads the count only after awaiting it, so requests that resume in the same tick all read the last one's count — five
 * requests at once against a limit of 3 were all refused (test/api/rate-limit.test.ts). Still so in 8.7.5.
 */
export class FixedWindowStore implements Store {
  readonly localKeys = true;
  private windowMs = 1000;
  private readonly windows = new Map<string, { hits: number; resetAt: number }>();
  private sweeper: NodeJS.Timeout | undefined;

  init(options: Options): void {
    this.windowMs = options.windowMs;
    clearInterval(this.sweeper);
    // Forget keys whose window is over, so a process serving many keys does not keep them all.
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    }, this.windowMs);
    this.sweeper.unref();
  }

  increment(key: string): ClientRateLimitInfo {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { hits: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.hits++;
    return { totalHits: window.hits, resetTime: new Date(window.resetAt) };
  }

  decrement(key: string): void {
    const window = this.windows.get(key);
    if (window && window.hits > 0) window.hits--;
  }

  resetKey(key: string): void {
    this.windows.delete(key);
  }
}

/**
 * At most `perSecond` requests per second per API key (a fixed one-second window, in this process's memory), for
 * routes expensive enough that one caller could starve the others. Placed after allow(), which names the key.
 * Beyond the limit: 429 `rate_limited` with Retry-After.
 */
export function perKeyRateLimit(perSecond: number, what: string): RequestHandler {
  return rateLimit({
    windowMs: 1000,
    limit: perSecond,
    store: new FixedWindowStore(),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (_req, res) => `key:${res.locals.principal!.keyId}`,
    handler: (_req, _res, next) => next(new RateLimitedError(`Too many requests to ${what}: at most ${perSecond} per second per API key`)),
  });
}
