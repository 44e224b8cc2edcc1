import type { Knex } from 'knex';

/**
 * API keys and the audit log.
 *
 * api_keys keeps only a SHA-256 hash of each key. A slow KDF (bcrypt, scrypt, argon2) exists to make guessing
 * low-entropy passwords expensive; our keys carry 256 random bits, so a stolen hash cannot be reversed by guessing
 * however fast the hash is, and a plain hash lets the API find a key by an indexed equality lookup.
 *
 * audit_log records every human action (API key creation and revocation, model status changes) and is append-only:
 * triggers refuse UPDATE, DELETE and TRUNCATE, so the record of who did what cannot be rewritten through the app.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_keys', (t) => {
    t.bigIncrements('key_id');
    t.text('name').notNullable();
    t.text('role').notNullable();
    // Hex SHA-256 of the whole key; the plaintext is shown once at creation and never stored.
    t.text('key_hash').notNullable().unique();
    // The public part of the key (fs_<prefix>_...): lets people tell keys apart in lists and logs.
    t.text('key_prefix').notNullable();
    t.text('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
  });
  await knex.raw(`alter table api_keys add constraint api_keys_role_check
                  check (role in ('owner', 'marketing', 'support', 'finance', 'ml'))`);

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // The API key's name, or the --by name of a CLI operator.
    t.text('actor').notNullable();
    // The key's role; null for CLI operators, who act with direct database access rather than a role.
    t.text('role');
    t.text('action').notNullable();
    t.text('target');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.text('ip');
    t.index(['at']);
    t.index(['target']);
  });

  await knex.raw(`
    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only: % is not allowed', tg_op;
    end $$`);
  await knex.raw(`create trigger audit_log_no_update_delete before update or delete on audit_log
                  for each row execute function audit_log_append_only()`);
  await knex.raw(`create trigger audit_log_no_truncate before truncate on audit_log
                  for each statement execute function audit_log_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('audit_log');
  await knex.schema.dropTableIfExists('api_keys');
  await knex.raw('drop function if exists audit_log_append_only()');
}
