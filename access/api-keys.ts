import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { recordAudit } from '../audit/audit-log';
import { isRole, ROLES, type Role } from '../lib/roles';

/**
 * API keys look like fs_<prefix>_<secret>: the prefix (8 hex characters) is stored in clear so people can tell keys
 * apart; the secret is 32 random bytes (base64url). Only the SHA-256 of the whole key is stored (see the migration
 * for why a fast hash is enough for 256-bit random keys).
 */
export const API_KEY_PATTERN = /^fs_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface ApiKeyInfo {
  keyId: number;
  name: string;
  role: Role;
  prefix: string;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

interface Row {
  key_id: string;
  name: string;
  role: Role;
  key_prefix: string;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
}

function fromRow(r: Row): ApiKeyInfo {
  return {
    keyId: Number(r.key_id),
    name: r.name,
    role: r.role,
    prefix: r.key_prefix,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    revokedAt: r.revoked_at?.toISOString() ?? null,
  };
}

const INFO_COLUMNS = ['key_id', 'name', 'role', 'key_prefix', 'created_by', 'created_at', 'revoked_at'];

function requireText(value: string, field: string): string {
  const v = value.trim();
  if (v === '' || v.length > 100) throw new ValidationError(`${field} must be 1 to 100 characters`, field);
  return v;
}

/** Creates a key and returns its plaintext: the only time it exists outside the caller's hands. Audited. */
export async function createApiKey(
  db: Knex,
  input: { name: string; role: string; createdBy: string },
): Promise<ApiKeyInfo & { key: string }> {
  const name = requireText(input.name, 'name');
  const createdBy = requireText(input.createdBy, 'createdBy');
  if (!isRole(input.role)) throw new ValidationError(`role must be one of ${ROLES.join(', ')}`, 'role');
  const prefix = randomBytes(4).toString('hex');
  const key = `fs_${prefix}_${randomBytes(32).toString('base64url')}`;
  return db.transaction(async (trx) => {
    const [row] = (await trx('api_keys')
      .insert({ name, role: input.role, key_hash: hashApiKey(key), key_prefix: prefix, created_by: createdBy })
      .returning(INFO_COLUMNS)) as Row[];
    const info = fromRow(row!);
    await recordAudit(trx, {
      actor: createdBy,
      role: null,
      action: 'api_key.create',
      target: `api_key:${info.keyId}`,
      details: { name, role: info.role, prefix },
    });
    return { ...info, key };
  });
}

/** Revokes a key at once (the next request with it gets 401). Audited. */
export async function revokeApiKey(db: Knex, keyId: number, by: string): Promise<ApiKeyInfo> {
  const actor = requireText(by, 'by');
  return db.transaction(async (trx) => {
    const current = (await trx('api_keys').where({ key_id: keyId }).forUpdate().first(INFO_COLUMNS)) as Row | undefined;
    if (!current) throw new NotFoundError(`No API key ${keyId}`);
    if (current.revoked_at) throw new ConflictError(`API key ${keyId} was already revoked at ${current.revoked_at.toISOString()}`);
    const [row] = (await trx('api_keys').where({ key_id: keyId }).update({ revoked_at: trx.fn.now() }).returning(INFO_COLUMNS)) as Row[];
    await recordAudit(trx, {
      actor,
      role: null,
      action: 'api_key.revoke',
      target: `api_key:${keyId}`,
      details: { name: current.name, role: current.role, prefix: current.key_prefix },
    });
    return fromRow(row!);
  });
}

/** Every key, newest first, without hashes. */
export async function listApiKeys(db: Knex): Promise<ApiKeyInfo[]> {
  const rows = (await db('api_keys').orderBy('key_id', 'desc').select(INFO_COLUMNS)) as Row[];
  return rows.map(fromRow);
}

/** The active key with this plaintext, or a reason why there is none. */
export async function findApiKey(db: Knex, key: string): Promise<ApiKeyInfo | 'unknown' | 'revoked'> {
  if (!API_KEY_PATTERN.test(key)) return 'unknown';
  const row = (await db('api_keys')
    .where({ key_hash: hashApiKey(key) })
    .first(INFO_COLUMNS)) as Row | undefined;
  if (!row) return 'unknown';
  return row.revoked_at ? 'revoked' : fromRow(row);
}
