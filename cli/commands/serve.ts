import path from 'node:path';
import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { temporalAddress } from '../../stack/temporal';
import { openApiDatabases } from '../../api/database';
import { createApiKey, listApiKeys, revokeApiKey } from '../../access/api-keys';
import { AUTH_FAILURE_REASONS, authFailureCounts } from '../../access/auth-failures';
import { ROLES } from '../../lib/roles';
import { shutdownSignal, startServer } from '../../api/server';
import { config } from '../../lib/config';
import { projectRoot } from '../../lib/project-root';
import { databaseUrl, secretKey } from '../../stack/postgres';
import { ValidationError } from '../../lib/errors';
import { table } from '../format';
import { withDatabase } from '../with-db';

function wholeNumber(value: string, name: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new ValidationError(`${name} must be a whole number from 1 to ${max}, got "${value}"`, name);
  }
  return Number(value);
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the HTTP API (Bearer API keys, see "foresight api-key") and the web console at / until interrupted')
    .option('--port <n>', 'port to listen on (default: FORESIGHT_API_PORT)')
    // Loopback by default: the API speaks plain HTTP, so expose it through a TLS-terminating proxy, or choose to.
    .option('--host <address>', 'address to listen on; 0.0.0.0 for every interface', '127.0.0.1')
    .action(async (opts: { port?: string; host: string }) => {
      const port = opts.port === undefined ? config().api.port : wholeNumber(opts.port, '--port', 65535);
      // withDatabase brings the database up and migrates it as the owner; requests run as the API role, which reads,
      // appends to the audit log and changes model status, and can do nothing else, on the API's own pools
      // (statement and connection timeouts, a separate pool for health checks).
      await withDatabase(async (_owner, cfg) => {
        const api = openApiDatabases(databaseUrl(cfg, cfg.postgres.database, 'api'), cfg.api);
        try {
          // Approvals send Temporal Updates; the connection is lazy, so the API starts (and serves the rest) while
          // Temporal is down, and an approval then answers 503.
          const connection = Connection.lazy({ address: temporalAddress(cfg) });
          const temporal = { client: new Client({ connection, namespace: cfg.temporal.namespace }), taskQueue: cfg.temporal.taskQueue };
          const consoleDir = path.join(projectRoot, 'console', 'dist');
          const app = createApp({ db: api.db, health: api.health, temporal, secretKey: secretKey(cfg), consoleDir });
          const server = await startServer(app, { port, host: opts.host });
          console.log(`Foresight API on ${server.url}; the console on ${server.url}/ (sign in with an API key); Ctrl-C to stop.`);
          const signal = await shutdownSignal();
          console.log(`${signal}: finishing requests in flight, then stopping.`);
          await server.close();
        } finally {
          await api.destroy();
        }
      });
    });

  const apiKey = program.command('api-key').description('Create, list and revoke API keys (creation and revocation are audited)');
  apiKey
    .command('create')
    .description('Create an API key and print it once')
    .requiredOption('--name <name>', 'who or what uses the key (recorded as the actor of its actions)')
    .requiredOption('--role <role>', ROLES.join(' | '))
    .requiredOption('--by <name>', 'who creates it (recorded)')
    .action(async (opts: { name: string; role: string; by: string }) => {
      await withDatabase(async (db) => {
        const created = await createApiKey(db, { name: opts.name, role: opts.role, createdBy: opts.by });
        // The key alone on stdout, so that it can be captured by a script; everything else on stderr.
        console.error(`API key ${created.keyId} "${created.name}" (role ${created.role}) created.`);
        console.error('This is the only time the key is shown: store it in a secret manager now. Foresight keeps only its hash.');
        console.log(created.key);
      });
    });
  apiKey
    .command('list')
    .description('List API keys (never the keys themselves) and the refused keys of the last 30 days')
    .action(async () => {
      await withDatabase(async (db) => {
        const keys = await listApiKeys(db);
        console.log(
          table(
            ['id', 'name', 'role', 'prefix', 'created by', 'created', 'revoked'],
            keys.map((k) => [
              k.keyId,
              k.name,
              k.role,
              `fs_${k.prefix}_…`,
              k.createdBy,
              k.createdAt.slice(0, 10),
              k.revokedAt?.slice(0, 10) ?? '-',
            ]),
          ),
        );
        const failures = await authFailureCounts(db, 30);
        console.log(`\nRefused API keys, last 30 days: ${AUTH_FAILURE_REASONS.map((r) => `${r} ${failures[r]}`).join(', ')}`);
      });
    });
  apiKey
    .command('revoke')
    .description('Revoke an API key at once')
    .argument('<key_id>')
    .requiredOption('--by <name>', 'who revokes it (recorded)')
    .action(async (keyId: string, opts: { by: string }) => {
      await withDatabase(async (db) => {
        const revoked = await revokeApiKey(db, wholeNumber(keyId, 'key_id', Number.MAX_SAFE_INTEGER), opts.by);
        console.log(`API key ${revoked.keyId} "${revoked.name}" (fs_${revoked.prefix}_…) is revoked.`);
      });
    });
}
