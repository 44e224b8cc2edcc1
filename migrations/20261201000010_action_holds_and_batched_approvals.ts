import type { Knex } from 'knex';

/**
 * Held actions and batched approvals.
 *
 * `actions.held_by`: an approved action whose webhook event was held back says why (`kill_switch` or `suppression`),
 * so lifting the kill switch can release exactly the actions it held (delivery/kill-switch-release.ts); null once
 * released or never held.
 *
 * `action_approvals.workflow_id` is no longer unique: one approval workflow keeps a batch of actions (an evaluation's
 * queue in a few workflows instead of one per action); the API finds an action's workflow through this row.
 *
 * Privileges: the API lifts the kill switch and releases the held actions in the same transaction.
 */
const API = 'foresight_api';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('actions', (t) => {
    t.text('held_by');
  });
  await knex.raw(`alter table actions add constraint actions_held_by check (held_by in ('kill_switch', 'suppression'))`);
  await knex.raw(`create index actions_held_by on actions (held_by) where held_by is not null`);
  await knex.raw(`grant update (held_by) on actions to ${API}`);

  await knex.raw('alter table action_approvals drop constraint action_approvals_workflow_id_unique');
  await knex.raw('create index action_approvals_workflow_id on action_approvals (workflow_id)');
}

export async function down(knex: Knex): Promise<void> {
  // A batch's rows share their workflow id: the old unique constraint would not hold, so refuse instead.
  const shared = await knex('action_approvals').groupBy('workflow_id').havingRaw('count(*) > 1').first('workflow_id');
  if (shared) throw new Error('Approvals share a batch workflow: they cannot go back to one workflow per action');
  await knex.raw('drop index action_approvals_workflow_id');
  await knex.raw('alter table action_approvals add constraint action_approvals_workflow_id_unique unique (workflow_id)');
  await knex.raw(`revoke update (held_by) on actions from ${API}`);
  await knex.raw('drop index actions_held_by');
  await knex.raw('alter table actions drop constraint actions_held_by');
  await knex.schema.alterTable('actions', (t) => {
    t.dropColumn('held_by');
  });
}
