import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors';
import type { Actor } from './actor';
import { parsePolicyParameters, type PolicyParameters } from './parameters';
import { parsePolicyRules, type PolicyRule } from './rules';

export type VersionStatus = 'draft' | 'approved' | 'active' | 'retired';

export interface PolicyVersion {
  versionId: number;
  policyKey: string;
  version: number;
  rules: PolicyRule[];
  parameters: PolicyParameters;
  status: VersionStatus;
  author: string;
  approvedBy: string | null;
}

interface VersionRow {
  version_id: string;
  policy_key: string;
  version: number;
  rules: unknown;
  parameters: unknown;
  status: VersionStatus;
  author: string;
  approved_by: string | null;
}

function toVersion(r: VersionRow): PolicyVersion {
  const parameters = parsePolicyParameters(r.parameters);
  return {
    versionId: Number(r.version_id),
    policyKey: r.policy_key,
    version: r.version,
    rules: parsePolicyRules(r.rules, parameters),
    parameters,
    status: r.status,
    author: r.author,
    approvedBy: r.approved_by,
  };
}

export async function loadVersion(db: Knex, versionId: number, options: { forUpdate?: boolean } = {}): Promise<PolicyVersion> {
  const q = db('policy_versions').where({ version_id: versionId }).first<VersionRow | undefined>();
  const row = await (options.forUpdate ? q.forUpdate() : q);
  if (!row) throw new NotFoundError(`Unknown policy version ${versionId}`);
  return toVersion(row);
}

/** The active version of a policy, or null when none is live. */
export async function activeVersion(db: Knex, policyKey: string): Promise<PolicyVersion | null> {
  const row = await db('policy_versions').where({ policy_key: policyKey, status: 'active' }).first<VersionRow | undefined>();
  return row ? toVersion(row) : null;
}

/** The policies that have an active version, by key: what the daily pipeline evaluates. */
export async function activePolicyKeys(db: Knex): Promise<string[]> {
  const rows = (await db('policy_versions').where({ status: 'active' }).orderBy('policy_key').select('policy_key')) as {
    policy_key: string;
  }[];
  return rows.map((r) => r.policy_key);
}

const POLICY_KEY = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * A new draft version of a policy (the policy is created with its first draft). Rules and parameters are validated
 * together, so a draft never references a threshold it does not define.
 */
export async function createDraft(
  db: Knex,
  input: { policyKey: string; name?: string; rules: unknown; parameters: unknown; note?: string },
  actor: Actor,
): Promise<PolicyVersion> {
  if (!POLICY_KEY.test(input.policyKey))
    throw new ValidationError('policyKey: lower-case letters, digits, - and _, starting with a letter', 'policyKey');
  const parameters = parsePolicyParameters(input.parameters);
  const rules = parsePolicyRules(input.rules, parameters);
  return db.transaction(async (trx) => {
    const policy = await trx('policies').where({ policy_key: input.policyKey }).forUpdate().first();
    if (!policy) await trx('policies').insert({ policy_key: input.policyKey, name: input.name ?? input.policyKey, created_by: actor.name });
    const last = await trx('policy_versions').where({ policy_key: input.policyKey }).max<{ max: number | null }>('version as max').first();
    const [row] = await trx('policy_versions')
      .insert({
        policy_key: input.policyKey,
        version: (last?.max ?? 0) + 1,
        rules: JSON.stringify(rules),
        parameters: JSON.stringify(parameters),
        author: actor.name,
        note: input.note ?? null,
      })
      .returning<VersionRow[]>('*');
    await recordAudit(trx, {
      actor: actor.name,
      role: actor.role,
      action: 'policy.draft_created',
      target: `policy:${input.policyKey}:v${row!.version}`,
      details: { versionId: Number(row!.version_id), note: input.note ?? null },
    });
    return toVersion(row!);
  });
}

async function transition(
  db: Knex,
  versionId: number,
  actor: Actor,
  action: string,
  change: (v: PolicyVersion, trx: Knex.Transaction) => Promise<Record<string, unknown>>,
): Promise<PolicyVersion> {
  return db.transaction(async (trx) => {
    const before = await loadVersion(trx, versionId, { forUpdate: true });
    const details = await change(before, trx);
    const after = await loadVersion(trx, versionId);
    await recordAudit(trx, {
      actor: actor.name,
      role: actor.role,
      action,
      target: `policy:${before.policyKey}:v${before.version}`,
      details: { versionId, before: before.status, after: after.status, ...details },
    });
    return after;
  });
}

/** Four eyes: a draft is approved by an owner other than its author (the database refuses it too). */
export function approve(db: Knex, versionId: number, actor: Actor): Promise<PolicyVersion> {
  return transition(db, versionId, actor, 'policy.approved', async (v, trx) => {
    if (v.status !== 'draft') throw new ConflictError(`Policy version ${versionId} is ${v.status}: only a draft can be approved`);
    if (actor.name === v.author)
      throw new ForbiddenError(`${actor.name} wrote policy version ${versionId} and may not approve it: another owner must`);
    if (actor.role !== null && actor.role !== 'owner') throw new ForbiddenError('Only a business owner may approve a policy');
    await trx('policy_versions')
      .where({ version_id: versionId })
      .update({ status: 'approved', approved_by: actor.name, approved_at: trx.fn.now() });
    return {};
  });
}

/** Makes an approved version live, retiring the policy's active version in the same transaction. */
export function activate(db: Knex, versionId: number, actor: Actor): Promise<PolicyVersion> {
  return transition(db, versionId, actor, 'policy.activated', async (v, trx) => {
    if (v.status !== 'approved')
      throw new ConflictError(`Policy version ${versionId} is ${v.status}: only an approved version can be activated`);
    // Serialises activations of one policy: two at once would both retire the old version and race for "active".
    await trx('policies').where({ policy_key: v.policyKey }).forUpdate().first();
    const retired = await trx('policy_versions')
      .where({ policy_key: v.policyKey, status: 'active' })
      .update({ status: 'retired', retired_at: trx.fn.now() })
      .returning<{ version_id: string }[]>('version_id');
    await trx('policy_versions').where({ version_id: versionId }).update({ status: 'active', activated_at: trx.fn.now() });
    return { retiredVersionId: retired[0] ? Number(retired[0].version_id) : null };
  });
}

/** Takes a version out of use for good (an approved one that will not go live, or the active one: nothing then acts). */
export function retire(db: Knex, versionId: number, actor: Actor, reason: string): Promise<PolicyVersion> {
  if (reason.trim() === '') throw new ValidationError('reason is required to retire a policy version', 'reason');
  return transition(db, versionId, actor, 'policy.retired', async (v, trx) => {
    if (v.status === 'retired') throw new ConflictError(`Policy version ${versionId} is already retired`);
    await trx('policy_versions').where({ version_id: versionId }).update({ status: 'retired', retired_at: trx.fn.now() });
    return { reason };
  });
}
