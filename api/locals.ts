import type { Logger } from 'pino';
import type { Role } from '../lib/roles';

/** Who is calling: the API key that authenticated the request. */
export interface Principal {
  keyId: number;
  name: string;
  role: Role;
}

// Typed res.locals, set by the request-id middleware (app.ts) and by allow() (auth.ts).
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      requestId: string;
      /** When the request arrived (performance.now()): what in-memory caches must be current as of. */
      receivedAt: number;
      /** The app's logger with this request's id on every line. */
      log: Logger;
      principal?: Principal;
    }
  }
}
