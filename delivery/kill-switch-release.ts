import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import type { Actor } from '../policy/actor';
import { setKillSwitch } from '../policy/kill-switch';
import { releaseActions } from './action-release';

export interface KillSwitchChange {
  on: boolean;
  /** Actions the switch held that were released (their webhook events written) when it was lifted. */
  released: number[];
  /** Held actions whose expiry passed while held: expired, never delivered. */
  expired: number[];
  /** Held actions now under a suppression: they stay held, by the suppression. */
  suppressed: number[];
}

/**
 * Turns the policy kill switch on or off. The rule when it is lifted, in the same transaction: every approved action
 * it held (`held_by = 'kill_switch'`: approved by a person, or automatically, while it was on) is released and
 * delivered as if approved now, unless its expiry passed meanwhile (then it expires, never delivered) or a
 * suppression now covers it (then the suppression holds it). What was released, expired or left suppressed is
 * audited in one `kill_switch.released` entry beside the switch's own.
 */
export async function changeKillSwitch(db: Knex, on: boolean, actor: Actor, reason: string): Promise<KillSwitchChange> {
  return db.transaction(async (trx) => {
    await setKillSwitch(trx, on, actor, reason);
    if (on) return { on, released: [], expired: [], suppressed: [] };
    const expired = (
      (await trx('actions')
        .where({ held_by: 'kill_switch' })
        .whereIn('status', ['approved', 'auto_approved'])
        .where('expires_at', '<=', trx.fn.now())
        .update({ status: 'expired', status_reason: 'expired while held by the kill switch', status_changed_at: trx.fn.now() })
        .returning('action_id')) as { action_id: string }[]
    ).map((r) => Number(r.action_id));
    const held = (await trx('actions')
      .where({ held_by: 'kill_switch' })
      .whereIn('status', ['approved', 'auto_approved'])
      .orderBy('action_id')
      .pluck('action_id')) as string[];
    const releases = await releaseActions(trx, held.map(Number));
    const released = [...releases].filter(([, r]) => r.released).map(([id]) => id);
    const suppressed = [...releases].filter(([, r]) => !r.released && r.heldBy === 'suppression').map(([id]) => id);
    if (held.length > 0 || expired.length > 0)
      await recordAudit(trx, {
        actor: actor.name,
        role: actor.role,
        action: 'kill_switch.released',
        target: 'policy_settings:kill_switch',
        details: { reason, released, expired, suppressed },
      });
    return { on, released, expired, suppressed };
  });
}
