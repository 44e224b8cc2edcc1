import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { METRICS_PATH } from '../../api/metrics';

export interface Reply {
  status: number;
  headers: Headers;
  // Parsed JSON: the tests look into it freely.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

/** One request over real HTTP; every answer of the API must be JSON, except the Prometheus metrics themselves. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { key?: string; authorization?: string; json?: unknown; raw?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  else if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.json !== undefined || options.raw !== undefined) {
    headers['content-type'] = 'application/json';
    body = options.raw ?? JSON.stringify(options.json);
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  const metrics = path.split('?')[0] === METRICS_PATH && res.status === 200;
  if (method !== 'HEAD' && !metrics)
    expect(res.headers.get('content-type'), `${method} ${path} answers JSON`).to.match(/^application\/json/);
  return { status: res.status, headers: res.headers, body: method === 'HEAD' || metrics ? undefined : JSON.parse(text), text };
}

/** A pino logger that keeps its entries, so tests can check what was logged and keep the run's output clean. */
export function memoryLogger() {
  const entries: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      entries.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), entries };
}
