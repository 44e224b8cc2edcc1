import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { ValidationError } from '../lib/errors';
import type { Actor } from './actor';

/** Whether the kill switch is on: no action is approved automatically, every one waits for a person. */
export async function killSwitchOn(db: Knex): Promise<boolean> {
  const row = await db('policy_settings').where({ key: 'kill_switch' }).first<{ value: { on: boolean } } | undefined>('value');
  return row?.value.on === true;
}

export async function setKillSwitch(db: Knex, on: boolean, actor: Actor, reason: string): Promise<void> {
  if (reason.trim() === '') throw new ValidationError('reason is required to turn the kill switch on or off', 'reason');
  await db.transaction(async (trx) => {
    const before = await killSwitchOn(trx);
    await trx('policy_settings')
      .insert({ key: 'kill_switch', value: JSON.stringify({ on, reason }), updated_by: actor.name, updated_at: trx.fn.now() })
      .onConflict('key')
      .merge();
    await recordAudit(trx, {
      actor: actor.name,
      role: actor.role,
      action: on ? 'kill_switch.on' : 'kill_switch.off',
      target: 'policy_settings:kill_switch',
      details: { before, after: on, reason },
    });
  });
}
