/**
 * The servers of bench/profile-load.ts, each in a process of its own (a load generator sharing their event loop would
 * measure itself). Usage: tsx bench/profile-load-server.ts api <database>   — the real API app (createApp) on the API
 * role's pools, as `foresight serve` builds it; or tsx bench/profile-load-server.ts bare <json-file>   — a bare Express
 * app answering every GET /customer/profile/:id with the same JSON document. Prints the URL on stdout once listening.
 */
import fs from 'node:fs';
import express from 'express';
import { createApp } from '../api/app';
import { openApiDatabases } from '../api/database';
import { shutdownSignal, startServer } from '../api/server';
import { config } from '../lib/config';
import { databaseUrl, secretKey } from '../stack/postgres';

async function main() {
  const [mode, arg] = process.argv.slice(2);
  const cfg = config();
  if (mode === 'api') {
    const api = openApiDatabases(databaseUrl(cfg, arg, 'api'), cfg.api);
    const server = await startServer(createApp({ db: api.db, health: api.health, secretKey: secretKey(cfg) }), {
      port: 0,
      host: '127.0.0.1',
    });
    console.log(server.url);
    await shutdownSignal();
    await server.close(1000);
    await api.destroy();
  } else if (mode === 'bare') {
    const document: unknown = JSON.parse(fs.readFileSync(arg!, 'utf8'));
    const app = express();
    app.get('/customer/profile/:id', (_req, res) => {
      res.json(document);
    });
    const server = await startServer(app, { port: 0, host: '127.0.0.1' });
    console.log(server.url);
    await shutdownSignal();
    await server.close(1000);
  } else throw new Error(`usage: profile-load-server.ts api <database> | bare <json-file>, got ${mode}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
