import type { Knex } from 'knex';

/**
 * The API caches valid API keys (access/api-key-cache.ts) so that a request costs no key lookup. Any change to a key
 * row — revocation by `foresight api-key revoke`, or an update, delete or truncate by hand — notifies the channel
 * `foresight_api_key_changed` (payload: the key id) when its transaction commits; each API process listens and drops
 * its cache, so a revoked key is refused by the next request as before.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function notify_api_key_changed() returns trigger language plpgsql as $$
    begin
      -- A truncate (statement level) has no old row: an empty payload means every key.
      perform pg_notify('foresight_api_key_changed', case when tg_level = 'ROW' then old.key_id::text else '' end);
      return null;
    end $$`);
  await knex.raw(`
    create trigger api_key_changed after update or delete on api_keys
    for each row execute function notify_api_key_changed()`);
  await knex.raw(`
    create trigger api_keys_truncated after truncate on api_keys
    for each statement execute function notify_api_key_changed()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger api_keys_truncated on api_keys');
  await knex.raw('drop trigger api_key_changed on api_keys');
  await knex.raw('drop function notify_api_key_changed()');
}
