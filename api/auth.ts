import type { RequestHandler } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { ForbiddenError, UnauthorizedError } from '../lib/errors';
import { log } from '../lib/log';
import { API_KEY_PATTERN } from '../access/api-keys';
import { createApiKeyCache } from '../access/api-key-cache';
import { createChangeListener, type ChangeListener } from '../lib/change-listener';
import { countAuthFailure, type AuthFailureReason } from '../access/auth-failures';
import type { Role } from '../lib/roles';

/** Who may call a route: a list of roles, or everyone (only for routes that reveal nothing, like /health). */
export type Access = readonly Role[] | 'public';

// Marks the middlewares made by allow() and publicRoute, so route-table.ts can prove every route has one.
const accessOfHandler = new WeakMap<object, Access>();

export function accessOf(handler: unknown): Access | undefined {
  return typeof handler === 'function' ? accessOfHandler.get(handler) : undefined;
}

function bearerKey(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export interface Auth {
  /** Per-route guard: authenticates the Bearer key (401) and requires one of the roles (403). */
  allow(...roles: Role[]): RequestHandler;
  /** The explicit opposite of allow(), so that "no guard" is always a visible decision. */
  publicRoute: RequestHandler;
}

/** `changes`: the app's change listener, shared with its other caches (default: one of the guard's own). */
export function createAuth(db: Knex, logger: Logger = log, changes: ChangeListener = createChangeListener(db, logger)): Auth {
  const keys = createApiKeyCache(db, changes);
  /** Counts the refusal, then refuses; a failure to count is logged and does not change the answer (401). */
  const refuse = async (reason: AuthFailureReason, message: string): Promise<never> => {
    await countAuthFailure(db, reason).catch((err: unknown) => logger.error({ err, reason }, 'could not count a failed authentication'));
    throw new UnauthorizedError(message);
  };
  const allow = (...roles: Role[]): RequestHandler => {
    if (roles.length === 0) throw new Error('allow() needs at least one role');
    const guard: RequestHandler = async (req, res, next) => {
      const key = bearerKey(req.get('authorization'));
      if (!key) throw new UnauthorizedError('Missing API key: send "Authorization: Bearer <key>"');
      // The lookup compares SHA-256 hashes inside Postgres (or in the cache of valid keys, emptied on any key change). No constant-time comparison is needed: timing can at most
      // reveal something about the hash of the key the caller sent, which does not help find a stored key's preimage.
      // A malformed key is answered like an unknown one (the caller learns nothing) but counted apart: probing, not a
      // stale key.
      if (!API_KEY_PATTERN.test(key)) return refuse('malformed', 'Unknown API key');
      const found = await keys.find(key);
      if (found === 'unknown') return refuse('unknown', 'Unknown API key');
      if (found === 'revoked') return refuse('revoked', 'This API key has been revoked');
      res.locals.principal = { keyId: found.keyId, name: found.name, role: found.role };
      if (!roles.includes(found.role)) {
        throw new ForbiddenError(
          `Role ${found.role} may not call ${req.method} ${req.route?.path ?? req.path}; allowed: ${roles.join(', ')}`,
        );
      }
      next();
    };
    accessOfHandler.set(guard, Object.freeze([...roles]));
    return guard;
  };
  const publicRoute: RequestHandler = (_req, _res, next) => next();
  accessOfHandler.set(publicRoute, 'public');
  return { allow, publicRoute };
}
