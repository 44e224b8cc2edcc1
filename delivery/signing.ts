import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks headers for one request: `webhook-signature` holds a `v1,<base64 HMAC-SHA256>` signature of
 * `id.timestamp.body` per secret, space-separated (two during a rotation's overlap). The timestamp is the attempt's,
 * so a retry hours later is not refused as stale; the id is the delivery's, the same on every attempt.
 */
export function webhookHeaders(secrets: string[], webhookId: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(webhookId, at, body)).join(' '),
  };
}
