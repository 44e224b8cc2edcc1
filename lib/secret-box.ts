import crypto from 'node:crypto';
import { ConfigError } from './errors';

/**
 * Secrets Foresight must read back (webhook signing secrets), sealed with AES-256-GCM under FORESIGHT_SECRET_KEY
 * (32 random bytes, base64). A sealed value is `v1.` + base64url(IV 12 bytes | tag 16 bytes | ciphertext); the
 * purpose is authenticated too, so a value sealed for one use cannot be passed off as another.
 */
const VERSION = 'v1';

export function parseSecretKey(base64: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(base64) || key.length !== 32)
    throw new ConfigError('FORESIGHT_SECRET_KEY must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)');
  return key;
}

export function newSecretKey(): string {
  return crypto.randomBytes(32).toString('base64');
}

export function seal(key: Buffer, purpose: string, plaintext: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(purpose));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url')}`;
}

export function open(key: Buffer, purpose: string, sealed: string): string {
  const [version, payload] = sealed.split('.');
  if (version !== VERSION || !payload) throw new ConfigError(`A sealed secret has an unknown format (${version})`);
  const bytes = Buffer.from(payload, 'base64url');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(purpose));
  decipher.setAuthTag(bytes.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new ConfigError(`Cannot decrypt a stored ${purpose}: FORESIGHT_SECRET_KEY is not the key it was sealed with`);
  }
}
