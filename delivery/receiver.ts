import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { mulberry32 } from '../lib/random';

/**
 * A small verifying webhook receiver, for the demo (`foresight receiver`) and the tests. It refuses a request whose
 * Standard Webhooks signature does not verify, or whose timestamp is more than five minutes off, with 401; processes
 * each `webhook-id` once (a repeat is answered 200 without processing it again); records what it processed in memory
 * and, if asked, as JSON lines in a file. For tests it can misbehave on purpose: be down until a time (503), fail a
 * share of requests before processing them (500), or lose a share of its answers after processing (500).
 */
export interface ReceiverOptions {
  /** `whsec_…` secrets; a request verifying under any of them is accepted. */
  secrets: string[];
  /** Share of verified requests answered 500 before they are processed. */
  failRate?: number;
  /** Share of verified requests processed and then answered 500, as if the answer were lost on the way back. */
  lostAckRate?: number;
  /** Epoch milliseconds: until then every request is answered 503. */
  downUntil?: number;
  /** Seed of the failures' random draws. */
  seed?: number;
  /** JSON-lines file that each processed message is appended to. */
  recordFile?: string;
}

export interface ProcessedMessage {
  webhookId: string;
  receivedAt: string;
  payload: unknown;
}

const MAX_BODY_BYTES = 1 << 20;

export class WebhookReceiver {
  readonly processed: ProcessedMessage[] = [];
  /** Verified requests per webhook-id, repeats included. */
  readonly requests = new Map<string, number>();
  readonly counts = { refused: 0, down: 0, failed: 0, lostAcks: 0, duplicates: 0 };
  private readonly seen = new Set<string>();
  private readonly random: () => number;
  private readonly server: http.Server;

  constructor(readonly options: ReceiverOptions) {
    if (options.secrets.length === 0) throw new Error('A receiver needs at least one secret');
    this.random = mulberry32(options.seed ?? 1);
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  /** Listens on 127.0.0.1 (port 0: any free port); returns the port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Whether `headers` and `body` carry a valid signature under one of the secrets (standardwebhooks' verify). */
  verify(body: string, headers: Record<string, string>): boolean {
    for (const secret of this.options.secrets) {
      try {
        new Webhook(secret).verify(body, headers);
        return true;
      } catch {
        // Next secret: during a rotation a receiver may hold both.
      }
    }
    return false;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const answer = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (Date.now() < (this.options.downUntil ?? 0)) {
      this.counts.down++;
      return answer(503, { error: 'down for maintenance' });
    }
    if (req.method !== 'POST') return answer(405, { error: 'POST only' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return answer(413, { error: 'body too large' });
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const headers: Record<string, string> = {};
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (!this.verify(body, headers)) {
      this.counts.refused++;
      return answer(401, { error: 'signature or timestamp does not verify' });
    }
    const webhookId = headers['webhook-id']!;
    this.requests.set(webhookId, (this.requests.get(webhookId) ?? 0) + 1);
    if (this.random() < (this.options.failRate ?? 0)) {
      this.counts.failed++;
      return answer(500, { error: 'failing on purpose (failRate)' });
    }
    if (this.seen.has(webhookId)) {
      this.counts.duplicates++;
      return answer(200, { ok: true, duplicate: true });
    }
    this.seen.add(webhookId);
    const message: ProcessedMessage = { webhookId, receivedAt: new Date().toISOString(), payload: JSON.parse(body) as unknown };
    this.processed.push(message);
    if (this.options.recordFile) fs.appendFileSync(this.options.recordFile, `${JSON.stringify(message)}\n`);
    if (this.random() < (this.options.lostAckRate ?? 0)) {
      this.counts.lostAcks++;
      return answer(500, { error: 'processed, answer lost on purpose (lostAckRate)' });
    }
    return answer(200, { ok: true });
  }
}
