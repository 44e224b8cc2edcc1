import type { Knex } from 'knex';

/**
 * The decision layer: versioned policies (json-rules-engine rules = structure, parameters = numbers owners tune),
 * their evaluations, one decision (the trace) and one action per customer acted on, manual suppressions, contact
 * history for frequency caps, and settings (the kill switch).
 *
 * A policy version goes draft → approved (by someone other than its author: a check constraint) → active → retired;
 * a partial unique index keeps at most one active version per policy. Decisions are history (append-only); an
 * action's status moves on (approval, expiry) but the action row is never deleted.
 *
 * Privileges: workers evaluate policies (read policies, suppressions, contacts and settings; write evaluations,
 * decisions and actions; deliveries append contacts) but do not author, approve or suppress: those are people's
 * acts, made through the API (which gets those writes) or the CLI (the owner).
 */
const API = 'foresight_api';
const WORKER = 'foresight_worker';

const ACTION_TYPES = ['retention_offer', 'proactive_outreach', 'priority_support', 'campaign', 'win_back'];
const ACTION_STATUSES = ['proposed', 'auto_approved', 'pending_approval', 'approved', 'rejected', 'expired', 'suppressed', 'holdout'];

const list = (values: string[]) => values.map((v) => `'${v}'`).join(', ');

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('policies', (t) => {
    t.text('policy_key').primary();
    t.text('name').notNullable();
    t.text('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('policy_versions', (t) => {
    t.bigIncrements('version_id');
    t.text('policy_key').notNullable().references('policies.policy_key');
    t.integer('version').notNullable();
    // json-rules-engine rules: conditions and events, thresholds referenced as {fact: 'parameters', path}.
    t.jsonb('rules').notNullable();
    // Thresholds, rates, caps, response assumptions, budgets, holdout rate: per action, overridable per segment.
    t.jsonb('parameters').notNullable();
    t.text('status').notNullable().defaultTo('draft');
    t.text('author').notNullable();
    t.text('note');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('approved_by');
    t.timestamp('approved_at', { useTz: true });
    t.timestamp('activated_at', { useTz: true });
    t.timestamp('retired_at', { useTz: true });
    t.unique(['policy_key', 'version']);
  });
  await knex.raw(`alter table policy_versions add constraint policy_versions_status
                  check (status in ('draft', 'approved', 'active', 'retired'))`);
  await knex.raw(`alter table policy_versions add constraint policy_versions_four_eyes
                  check (approved_by is null or approved_by <> author)`);
  await knex.raw(`alter table policy_versions add constraint policy_versions_live_needs_approval
                  check (status not in ('approved', 'active') or (approved_by is not null and approved_at is not null))`);
  await knex.raw(`create unique index policy_versions_one_active on policy_versions (policy_key) where status = 'active'`);

  await knex.schema.createTable('policy_evaluations', (t) => {
    t.bigIncrements('evaluation_id');
    t.bigInteger('version_id').notNullable().references('policy_versions.version_id');
    t.text('policy_key').notNullable();
    t.bigInteger('scoring_run_id').notNullable().references('scoring_runs.run_id');
    t.timestamp('as_of', { useTz: true }).notNullable();
    t.text('started_by').notNullable();
    t.timestamp('evaluated_at', { useTz: true }).notNullable();
    t.jsonb('summary').notNullable().defaultTo('{}');
    t.index(['policy_key', 'evaluated_at']);
  });

  await knex.schema.createTable('decisions', (t) => {
    t.bigIncrements('decision_id');
    t.bigInteger('evaluation_id').notNullable().references('policy_evaluations.evaluation_id');
    t.text('customer_id').notNullable().references('customers.customer_id');
    t.bigInteger('version_id').notNullable().references('policy_versions.version_id');
    t.bigInteger('scoring_run_id').notNullable().references('scoring_runs.run_id');
    t.jsonb('model_versions').notNullable();
    // The customer's facts as the rules saw them (scores, CLV and its conservative end, orders, contacts, ...).
    t.jsonb('facts').notNullable();
    // The rule that fired, its conditions with the thresholds they were compared to, the candidates and arbitration.
    t.jsonb('trace').notNullable();
    t.timestamp('decided_at', { useTz: true }).notNullable();
    t.unique(['evaluation_id', 'customer_id']);
    t.index(['customer_id', 'decided_at']);
  });
  await knex.raw(`create trigger decisions_no_update_delete before update or delete on decisions
                  for each row execute function refuse_history_change()`);
  await knex.raw(`create trigger decisions_no_truncate before truncate on decisions
                  for each statement execute function refuse_history_change()`);

  await knex.schema.createTable('actions', (t) => {
    t.bigIncrements('action_id');
    t.bigInteger('decision_id').notNullable().unique().references('decisions.decision_id');
    t.text('customer_id').notNullable().references('customers.customer_id');
    t.text('policy_key').notNullable();
    t.bigInteger('version_id').notNullable().references('policy_versions.version_id');
    t.text('action_type').notNullable();
    t.text('segment');
    // Where the action goes (a campaign's key, a CRM queue): what a campaign suppression matches.
    t.text('campaign').notNullable();
    // Everything a receiver needs besides the amount: reason in words, script hint, channel, queue.
    t.jsonb('parameters').notNullable().defaultTo('{}');
    t.decimal('incentive_amount', 14, 2).notNullable().defaultTo(0);
    t.decimal('expected_value', 14, 2).notNullable();
    t.boolean('holdout').notNullable().defaultTo(false);
    t.text('status').notNullable();
    // Why the status: low_confidence / kill_switch (needs approval), suppression / frequency_cap / budget, ...
    t.text('status_reason');
    t.timestamp('decided_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('status_changed_at', { useTz: true }).notNullable();
    t.index(['customer_id', 'status']);
    t.index(['policy_key', 'decided_at']);
    t.index(['status', 'expires_at']);
  });
  await knex.raw(`alter table actions add constraint actions_type check (action_type in (${list(ACTION_TYPES)}))`);
  await knex.raw(`alter table actions add constraint actions_status check (status in (${list(ACTION_STATUSES)}))`);
  await knex.raw(`alter table actions add constraint actions_incentive_not_negative check (incentive_amount >= 0)`);
  await knex.raw(`alter table actions add constraint actions_holdout_status check (holdout = (status = 'holdout'))`);

  await knex.schema.createTable('suppressions', (t) => {
    t.bigIncrements('suppression_id');
    t.text('scope').notNullable();
    // The customer id, the segment's name or the campaign's key.
    t.text('value').notNullable();
    t.text('reason').notNullable();
    t.text('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true });
    t.text('lifted_by');
    t.timestamp('lifted_at', { useTz: true });
    t.index(['scope', 'value']);
  });
  await knex.raw(`alter table suppressions add constraint suppressions_scope check (scope in ('customer', 'segment', 'campaign'))`);

  await knex.schema.createTable('contact_history', (t) => {
    t.bigIncrements('contact_id');
    t.text('customer_id').notNullable().references('customers.customer_id');
    t.text('action_type').notNullable();
    t.text('channel');
    t.bigInteger('action_id').references('actions.action_id');
    t.timestamp('contacted_at', { useTz: true }).notNullable();
    t.index(['customer_id', 'contacted_at']);
    t.index(['contacted_at']);
  });

  await knex.schema.createTable('policy_settings', (t) => {
    t.text('key').primary();
    t.jsonb('value').notNullable();
    t.text('updated_by').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex('policy_settings').insert({ key: 'kill_switch', value: JSON.stringify({ on: false }), updated_by: 'migration' });

  // Default privileges gave the API select and the worker everything on these tables: narrow them to their jobs.
  const definitions = ['policies', 'policy_versions', 'suppressions', 'policy_settings'];
  await knex.raw(`revoke insert, update, delete on ${definitions.join(', ')} from ${WORKER}`);
  await knex.raw(`revoke delete on policy_evaluations, decisions, actions, contact_history from ${WORKER}`);
  await knex.raw(`revoke update on decisions, contact_history from ${WORKER}`);
  await knex.raw(`grant insert, update on ${definitions.join(', ')} to ${API}`);
  await knex.raw(`grant update (status, status_reason, status_changed_at, incentive_amount, parameters) on actions to ${API}`);
  await knex.raw(`grant usage on sequence policy_versions_version_id_seq, suppressions_suppression_id_seq to ${API}`);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['policy_settings', 'contact_history', 'suppressions', 'actions', 'decisions', 'policy_evaluations'])
    await knex.schema.dropTableIfExists(table);
  await knex.schema.dropTableIfExists('policy_versions');
  await knex.schema.dropTableIfExists('policies');
}
