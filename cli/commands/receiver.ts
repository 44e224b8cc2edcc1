import type { Command } from 'commander';
import { ValidationError } from '../../lib/errors';
import { WebhookReceiver } from '../../delivery/receiver';
import { wholeNumberOption } from '../options';

const SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

function rateOption(value: string, option: string): number {
  const rate = Number(value);
  if (value.trim() === '' || !Number.isFinite(rate) || rate < 0 || rate > 1)
    throw new ValidationError(`${option} must be a number from 0 to 1, got "${value}"`, option);
  return rate;
}

export function registerReceiver(program: Command): void {
  program
    .command('receiver')
    .description('Run a small verifying webhook receiver (Standard Webhooks) on 127.0.0.1 until interrupted')
    .requiredOption('--port <n>', 'port to listen on')
    .requiredOption('--secret <whsec>', 'signing secret (whsec_…); repeat during a rotation', (v: string, all: string[] = []) => [
      ...all,
      v,
    ])
    .option('--record <file>', 'append each processed message to this JSON-lines file')
    .option('--fail-rate <share>', 'answer this share of requests 500 before processing them (testing retries)', '0')
    .option('--down-for <seconds>', 'answer 503 to everything for this many seconds after start', '0')
    .action(async (opts: { port: string; secret: string[]; record?: string; failRate: string; downFor: string }) => {
      const port = wholeNumberOption(opts.port, '--port');
      if (port < 1 || port > 65535) throw new ValidationError(`--port must be from 1 to 65535, got ${port}`, '--port');
      for (const secret of opts.secret)
        if (!SECRET.test(secret)) throw new ValidationError('--secret must be whsec_ followed by base64', '--secret');
      const receiver = new WebhookReceiver({
        secrets: opts.secret,
        recordFile: opts.record,
        failRate: rateOption(opts.failRate, '--fail-rate'),
        downUntil: Date.now() + wholeNumberOption(opts.downFor, '--down-for') * 1000,
        seed: Date.now() & 0xffffffff,
      });
      await receiver.listen(port);
      console.log(`Webhook receiver on http://127.0.0.1:${port}/ (verifying ${opts.secret.length} secret(s)); Ctrl-C to stop.`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await receiver.close();
      const c = receiver.counts;
      console.log(
        `Processed ${receiver.processed.length}; repeats ${c.duplicates}; refused ${c.refused}; failed on purpose ${c.failed + c.down}.`,
      );
    });
}
