import type { Knex } from 'knex';

/**
 * Least privilege and an append-only trail.
 *
 * Migrations run as the owner. The HTTP API connects as `foresight_api` and Temporal workers as `foresight_worker`:
 * NOLOGIN group roles, granted here per database, whose login users the stack creates for the embedded server (an
 * operator of DATABASE_URL creates and maps their own: README "Database roles"). Neither is a superuser nor owns a
 * table, so neither can disable a trigger, switch `session_replication_role` to replica, truncate or drop.
 *
 * Roles are cluster-wide and several databases (the tests') share one server: they are created only when missing,
 * tolerating a concurrent creator, and `down` leaves them (another database may use them) but revokes their rights.
 *
 * auth_failures counts refused API keys per day and reason, so that guessing and stale keys show up.
 */
const API = 'foresight_api';
const WORKER = 'foresight_worker';

/** What the API reads: profiles, the registry, and API keys to authenticate. */
const API_READS = [
  'customers',
  'scoring_runs',
  'customer_risk_scores',
  'customer_profiles_latest',
  'data_quality',
  'model_registry',
  'model_registry_events',
  'api_keys',
];

/** What ingestion, feature snapshots and scoring write, replacing a snapshot or an as-of's scores (delete). */
const WORKER_DATA = [
  'ingest_batches',
  'ingest_rejects',
  'customers',
  'customer_identities',
  'orders',
  'order_items',
  'returns',
  'sessions',
  'feature_sets',
  'feature_snapshot_headers',
  'feature_snapshots',
  'scoring_runs',
  'customer_risk_scores',
];

export async function up(knex: Knex): Promise<void> {
  for (const role of [API, WORKER]) {
    await knex.raw(`
      do $$ begin
        if not exists (select 1 from pg_roles where rolname = '${role}') then create role ${role} nologin; end if;
      exception
        when duplicate_object or unique_violation then null;
        when insufficient_privilege then
          raise exception 'The role ${role} does not exist and % may not create it: as an administrator run
            "create role ${role} nologin", then migrate again (README "Database roles")', current_user;
      end $$`);
  }

  await knex.schema.createTable('auth_failures', (t) => {
    t.date('day').notNullable();
    t.text('reason').notNullable();
    t.bigInteger('attempts').notNullable().defaultTo(0);
    t.primary(['day', 'reason']);
  });
  await knex.raw(`alter table auth_failures add constraint auth_failures_reason_check
                  check (reason in ('malformed', 'unknown', 'revoked'))`);

  // model_registry_events is history like audit_log: no UPDATE, no TRUNCATE (DELETE is refused since migration 3);
  // a TRUNCATE of model_registry would bypass its row-level DELETE trigger.
  await knex.raw(`
    create function refuse_history_change() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only: % is not allowed', tg_table_name, tg_op;
    end $$`);
  await knex.raw(`create trigger model_registry_events_no_update before update on model_registry_events
                  for each row execute function refuse_history_change()`);
  await knex.raw(`create trigger model_registry_events_no_truncate before truncate on model_registry_events
                  for each statement execute function refuse_history_change()`);
  await knex.raw(`create trigger model_registry_no_truncate before truncate on model_registry
                  for each statement execute function refuse_history_change()`);

  await knex.raw(`grant usage on schema public to ${API}, ${WORKER}`);

  await knex.raw(`grant select on ${API_READS.join(', ')} to ${API}`);
  await knex.raw(`grant insert on audit_log, model_registry_events to ${API}`);
  await knex.raw(`grant update (status, promoted_by, promoted_at) on model_registry to ${API}`);
  await knex.raw(`grant select, insert, update on auth_failures to ${API}`);
  await knex.raw(`grant usage on sequence audit_log_id_seq, model_registry_events_event_id_seq to ${API}`);

  await knex.raw(`grant select, insert, update, delete on ${WORKER_DATA.join(', ')} to ${WORKER}`);
  await knex.raw(`grant select on data_quality, customer_profiles_latest to ${WORKER}`);
  // Training registers models and promotes them (with an audit row); history itself stays append-only.
  await knex.raw(`grant select, insert, update on model_registry to ${WORKER}`);
  await knex.raw(`grant select, insert on model_registry_events, audit_log to ${WORKER}`);
  await knex.raw(`grant usage on all sequences in schema public to ${WORKER}`);

  // Tables of later migrations: readable by the API and writable by workers unless that migration says otherwise.
  await knex.raw(`alter default privileges in schema public grant select on tables to ${API}`);
  await knex.raw(`alter default privileges in schema public grant select, insert, update, delete on tables to ${WORKER}`);
  await knex.raw(`alter default privileges in schema public grant usage on sequences to ${WORKER}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`alter default privileges in schema public revoke all on tables from ${API}, ${WORKER}`);
  await knex.raw(`alter default privileges in schema public revoke all on sequences from ${WORKER}`);
  await knex.raw(`revoke all on all tables in schema public from ${API}, ${WORKER}`);
  await knex.raw(`revoke all on all sequences in schema public from ${API}, ${WORKER}`);
  await knex.raw(`revoke usage on schema public from ${API}, ${WORKER}`);
  await knex.raw('drop trigger if exists model_registry_no_truncate on model_registry');
  await knex.raw('drop trigger if exists model_registry_events_no_truncate on model_registry_events');
  await knex.raw('drop trigger if exists model_registry_events_no_update on model_registry_events');
  await knex.raw('drop function if exists refuse_history_change()');
  await knex.schema.dropTableIfExists('auth_failures');
}
