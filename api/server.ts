import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { log } from '../lib/log';

export interface RunningServer {
  url: string;
  /** Stops accepting connections and waits for requests in flight, cutting the rest off after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export function startServer(app: Express, options: { port: number; host: string }): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(options.port, options.host);
    server.once('error', reject);
    server.once('listening', () => {
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({ url: `http://${host}:${port}`, close: (graceMs) => closeServer(server, graceMs) });
    });
  });
}

function closeServer(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const force = setTimeout(() => {
      log.warn({ graceMs }, 'requests still running at shutdown; closing their connections');
      server.closeAllConnections();
    }, graceMs);
    server.close((err) => {
      clearTimeout(force);
      if (err) reject(err);
      else resolve();
    });
    // Keep-alive connections with no request in flight would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  });
}

/** Resolves on the first SIGINT or SIGTERM, so that a command can shut down in order instead of dying mid-request. */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
