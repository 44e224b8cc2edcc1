import type { Knex } from 'knex';

/**
 * Human in the loop: the eight API roles, monitoring alerts (an open alert makes every action high-impact), and one
 * approval row per action that waits for a person (the approval workflow's state: expiry, escalation, the decision
 * with its before and after). The decision itself is also in audit_log.
 *
 * Privileges: the approval workflow's activities (worker) write approvals and move actions on; the API reads them,
 * lists alerts and manages webhook subscriptions and replays (people's acts over HTTP).
 */
const API = 'foresight_api';
const OLD_ROLES = ['owner', 'marketing', 'support', 'finance', 'ml'];
const ROLES = ['viewer', 'marketing', 'support', 'finance', 'owner', 'ml', 'service', 'admin'];
const list = (values: string[]) => values.map((v) => `'${v}'`).join(', ');

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table api_keys drop constraint api_keys_role_check');
  await knex.raw(`alter table api_keys add constraint api_keys_role_check check (role in (${list(ROLES)}))`);

  await knex.schema.createTable('alerts', (t) => {
    t.bigIncrements('alert_id');
    t.text('kind').notNullable();
    t.text('message').notNullable();
    t.text('status').notNullable().defaultTo('open');
    t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('resolved_at', { useTz: true });
    t.text('resolved_by');
    t.index(['status']);
  });
  await knex.raw(`alter table alerts add constraint alerts_status check (status in ('open', 'resolved'))`);

  await knex.schema.createTable('action_approvals', (t) => {
    t.bigInteger('action_id').primary().references('actions.action_id');
    t.text('workflow_id').notNullable().unique();
    t.text('status').notNullable().defaultTo('waiting');
    t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('deadline_at', { useTz: true }).notNullable();
    t.timestamp('escalated_at', { useTz: true });
    t.text('decided_by');
    t.text('decided_role');
    t.timestamp('decided_at', { useTz: true });
    t.text('reason');
    // The action's amount, channel and status before and after the decision (an override changes amount or channel).
    t.jsonb('before');
    t.jsonb('after');
    t.index(['status', 'opened_at']);
  });
  await knex.raw(`alter table action_approvals add constraint action_approvals_status
                  check (status in ('waiting', 'approved', 'rejected', 'overridden', 'expired'))`);

  await knex.raw(`grant insert, update on webhook_subscriptions, webhook_deliveries, delivery_settings to ${API}`);
  await knex.raw(`grant usage on sequence webhook_subscriptions_subscription_id_seq to ${API}`);
  await knex.raw(`grant insert, update on alerts to ${API}`);
  // A stale profile is served with the recency fallback, read from today's orders.
  await knex.raw(`grant select on orders to ${API}`);
  await knex.raw(`grant usage on sequence alerts_alert_id_seq to ${API}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`revoke insert, update on webhook_subscriptions, webhook_deliveries, delivery_settings from ${API}`);
  await knex.raw(`revoke select on orders from ${API}`);
  await knex.schema.dropTableIfExists('action_approvals');
  await knex.schema.dropTableIfExists('alerts');
  // Keys of the new roles would silently change meaning under the old constraint: refuse instead.
  const newRoles = await knex('api_keys').whereIn('role', ['viewer', 'service', 'admin']).count<{ n: string }[]>('* as n');
  if (Number(newRoles[0]?.n ?? 0) > 0)
    throw new Error('API keys with the roles viewer, service or admin exist: revoke and remove them first');
  await knex.raw('alter table api_keys drop constraint api_keys_role_check');
  await knex.raw(`alter table api_keys add constraint api_keys_role_check check (role in (${list(OLD_ROLES)}))`);
}
