import type { Knex } from 'knex';
import type { ChangeListener } from '../lib/change-listener';
import { findApiKey, hashApiKey, type ApiKeyInfo } from './api-keys';

/** The channel the api_keys trigger notifies on every change to a key row (migration 20261130000030). */
export const API_KEY_CHANGED_CHANNEL = 'foresight_api_key_changed';

/** A valid key is looked up again after this long even without a notification: a bound should one ever be lost. */
const ENTRY_TTL_MS = 60_000;
/** Keys are few (one per person or system); the bound only guards memory against a flood of distinct valid keys. */
const MAX_ENTRIES = 10_000;

export interface ApiKeyCache {
  /** findApiKey, answered from memory for a valid key seen recently. */
  find(key: string): Promise<ApiKeyInfo | 'unknown' | 'revoked'>;
}

/**
 * Valid API keys by hash, so that an authenticated request costs no key lookup. Only valid keys are kept (unknown and
 * revoked ones are looked up each time, and counted by the caller).
 *
 * Revocation stays immediate: the cache is used only while `changes` listens on API_KEY_CHANGED_CHANNEL, every
 * notification empties it, and a cached key is trusted only after the listener's barrier (lib/change-listener.ts):
 * a key revoked before the request arrived is never served from memory. While the listener is down, every request
 * looks its key up as before.
 */
export function createApiKeyCache(db: Knex, changes: ChangeListener): ApiKeyCache {
  const entries = new Map<string, { info: ApiKeyInfo; expiresAt: number }>();
  // Counts notifications and losses of the listener: a lookup or sync that saw it change may have read a key before
  // its revocation, so its answer is not trusted.
  let generation = 0;
  const dropAll = () => {
    generation++;
    entries.clear();
  };
  changes.subscribe(API_KEY_CHANGED_CHANNEL, dropAll);

  const lookUp = async (hash: string, key: string, now: number) => {
    const before = changes.listening() ? generation : undefined;
    const found = await findApiKey(db, key);
    // Kept only if the listener was up, and heard nothing, for the whole lookup.
    if (typeof found === 'object' && changes.listening() && generation === before) {
      if (entries.size >= MAX_ENTRIES) dropAll();
      entries.set(hash, { info: found, expiresAt: now + ENTRY_TTL_MS });
    }
    return found;
  };

  return {
    async find(key) {
      const hash = hashApiKey(key);
      const now = Date.now();
      const hit = changes.listening() ? entries.get(hash) : undefined;
      if (!hit || hit.expiresAt <= now) return lookUp(hash, key, now);
      const before = generation;
      const synced = await changes.barrier().then(
        () => true,
        () => false,
      );
      // A notification (or a lost listener) meanwhile may concern this key: look it up.
      return synced && generation === before ? hit.info : lookUp(hash, key, now);
    },
  };
}
