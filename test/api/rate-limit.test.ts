import { expect } from 'chai';
import express from 'express';
import { perKeyRateLimit } from '../../api/rate-limit';
import { errorHandler } from '../../api/errors';
import { startServer, type RunningServer } from '../../api/server';
import { call, memoryLogger } from '../support/http';

/**
 * The per-key limit counts each request at its own increment. Requests here are held until all have arrived and then
 * released in one tick — the way they resume when their key lookups finish together — which made express-rate-limit's
 * own MemoryStore refuse every one of them (each read the last request's count).
 */
describe('per-key rate limit under a burst released in one tick', () => {
  let server: RunningServer | undefined;
  afterEach(async () => server?.close());

  async function burst(requests: { keyId: number }[], limit: number): Promise<Map<number, number[]>> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived = 0;
    const app = express();
    app.get(
      '/:keyId',
      async (req, res, next) => {
        res.locals.principal = { keyId: Number(req.params.keyId), name: 'test', role: 'marketing' };
        if (++arrived === requests.length) release();
        await released;
        next();
      },
      perKeyRateLimit(limit, 'the test route'),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    app.use(errorHandler(memoryLogger().logger));
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    const replies = await Promise.all(requests.map(({ keyId }) => call(server!.url, 'GET', `/${keyId}`)));
    const byKey = new Map<number, number[]>();
    requests.forEach(({ keyId }, i) => byKey.set(keyId, [...(byKey.get(keyId) ?? []), replies[i]!.status].sort()));
    return byKey;
  }

  it('lets exactly the limit through per key, and refuses the rest with 429', async () => {
    const byKey = await burst([...Array.from({ length: 5 }, () => ({ keyId: 1 })), ...Array.from({ length: 2 }, () => ({ keyId: 2 }))], 3);
    expect(byKey.get(1)).to.deep.equal([200, 200, 200, 429, 429]);
    expect(byKey.get(2)).to.deep.equal([200, 200]);
  });
});
