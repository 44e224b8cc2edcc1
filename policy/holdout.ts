import crypto from 'node:crypto';

/**
 * The control group of a policy: a customer is in it when the hash of (policy key, customer id) falls below the
 * rate. Deterministic, so the same customers stay out of a policy's actions across runs and versions (impact is
 * measured against them), and independent between policies.
 */
export function inHoldout(policyKey: string, customerId: string, rate: number): boolean {
  if (rate <= 0) return false;
  const digest = crypto.createHash('sha256').update(`${policyKey}\u0000${customerId}`).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000 < rate;
}
