import type { Knex } from 'knex';
import type { ChangeListener } from '../lib/change-listener';
import { readServedProfile, servedProfileJson, type ServedProfileParts } from './served-profile';

/** The channel the triggers of migration 20261202000010 notify on any change to what a served profile is read from. */
export const SERVED_PROFILE_CHANGED_CHANNEL = 'foresight_served_profile_changed';

export interface ServedProfiles {
  /**
   * The served profile as JSON (policy/served-profile.ts), from memory when it was read since the last change. `since`:
   * when the request arrived (performance.now()); changes committed before it are always seen.
   */
  json(customerId: string, options: { embedding: boolean; since?: number }): Promise<string>;
  /** Profiles answered from memory and from the database since the start (a 404 counts as read from the database). */
  readonly counts: { hits: number; misses: number };
}

/**
 * Served profiles by customer (and whether the embedding is included), so that a repeated read costs no database
 * round trip. At most `maxEntries` are kept, the least recently served dropped first; 0 keeps none.
 *
 * Kept only what does not change with time: the staleness (and its fallback) is computed at each request, and a
 * profile is read again once the earliest of its open actions expires. Correct by invalidation, as the API key cache
 * is: the cache is used only while `changes` listens on SERVED_PROFILE_CHANGED_CHANNEL, every notification (or loss of
 * the listener) empties it, and a kept profile is served only after the listener's barrier, so a change committed
 * before the request arrived is never missed. Unknown and unscored customers (404) are read each time.
 */
export function createServedProfileCache(
  db: Knex,
  changes: ChangeListener,
  options: { maxEntries: number; freshnessDays: number },
): ServedProfiles {
  // A Map iterates in insertion order: re-inserting an entry on each hit makes the first one the least recently used.
  const entries = new Map<string, ServedProfileParts>();
  // Counts notifications and losses of the listener: a read or a sync that saw it change is not trusted.
  let generation = 0;
  changes.subscribe(SERVED_PROFILE_CHANGED_CHANNEL, () => {
    generation++;
    entries.clear();
  });
  const counts = { hits: 0, misses: 0 };
  const caching = () => options.maxEntries > 0 && changes.listening();

  const fromMemory = async (key: string, since: number | undefined): Promise<ServedProfileParts | undefined> => {
    const hit = entries.get(key);
    if (!hit || hit.openActionsValidUntil <= Date.now()) return undefined;
    const before = generation;
    const synced = await changes.barrier(since).then(
      () => true,
      () => false,
    );
    if (!synced || generation !== before) return undefined;
    entries.delete(key);
    entries.set(key, hit);
    return hit;
  };

  const fromDatabase = async (key: string, customerId: string, embedding: boolean): Promise<ServedProfileParts> => {
    const before = caching() ? generation : undefined;
    const parts = await readServedProfile(db, customerId, { embedding });
    // Kept only if the listener was up, and heard nothing, for the whole read.
    if (caching() && generation === before) {
      entries.delete(key);
      if (entries.size >= options.maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, parts);
    }
    return parts;
  };

  return {
    async json(customerId, { embedding, since }) {
      const key = embedding ? `${customerId}\n+embedding` : customerId;
      const hit = caching() ? await fromMemory(key, since) : undefined;
      if (hit) counts.hits++;
      else counts.misses++;
      return servedProfileJson(hit ?? (await fromDatabase(key, customerId, embedding)), options.freshnessDays);
    },
    counts,
  };
}
