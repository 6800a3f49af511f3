/**
 * A client that hangs up while its request is being admitted: the request still runs (the
 * effect may happen), and its copies are answered as in flight only while it runs — a retry
 * once it is done replays, instead of 409 until the end of a lease.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import Fastify from 'fastify';
import { MemoryRateLimitStore, type RateLimitStore } from 'tollgate';
import { tollgate as expressTollgate, type TollgateRouteOptions } from 'tollgate/express';
import { tollgate as fastifyTollgate } from 'tollgate/fastify';
import { MemoryIdempotencyStore, MemoryReplayCache, TieredIdempotencyStore } from 'tollgate/idempotency';
import { describe, expect, it, vi } from 'vitest';
import { listen } from './fixtures/apps.ts';

/** Memory counters behind a 150 ms network: the admission takes that long. */
function slowStore(): RateLimitStore {
  const memory = new MemoryRateLimitStore();
  const later = async <T>(work: () => Promise<T>) => {
    await sleep(150);
    return work();
  };
  return {
    inProcess: false,
    consume: (checks) => later(() => memory.consume(checks)),
    peek: (checks) => later(() => memory.peek(checks)),
    refund: (checks) => later(() => memory.refund(checks)),
  };
}

const settings: TollgateRouteOptions = {
  idempotency: 'required',
  policies: [
    { name: 'pay', algorithm: 'fixed-window', limit: 10, windowSeconds: 86_400, subject: ['principal'] },
  ],
};
const stores = () => ({
  rateLimitStore: slowStore(),
  // The truth claims (as PostgreSQL would), after an admission that cannot see it.
  idempotencyStore: new TieredIdempotencyStore({
    truth: new MemoryIdempotencyStore(),
    cache: new MemoryReplayCache(),
  }),
  storeTimeoutMs: 2_000,
  principal: () => 'acct_1',
});

async function fastifyApp(runs: { count: number }) {
  const app = Fastify();
  await app.register(fastifyTollgate, stores());
  app.post('/pay', { config: { tollgate: settings } }, async (_request, reply) =>
    reply.code(201).send({ run: ++runs.count }),
  );
  return app;
}

function expressApp(runs: { count: number }) {
  const app = express();
  const gate = expressTollgate(stores());
  app.post('/pay', express.json(), gate(settings), (_req, res) => {
    res.status(201).json({ run: ++runs.count });
  });
  return app;
}

describe.each([
  ['fastify', fastifyApp],
  ['express', expressApp],
] as const)('%s: a client that hangs up during its admission', (_name, build) => {
  it('still runs once, and a retry once it is done replays (not 409 until the lease ends)', async () => {
    const runs = { count: 0 };
    const server = await listen(await build(runs));
    try {
      const key = 'hang-up-key-000000001';
      const body = '{"amount":5}';
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /pay HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: ${key}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
        setTimeout(() => socket.destroy(), 30); // gone while the admission waits on its store
      });
      socket.on('error', () => undefined);
      // Once the first is done (its admission takes 150 ms), a retry replays: within a few
      // seconds on a loaded machine — the lease (30 s) would be the bug.
      const retry = await vi.waitFor(
        async () => {
          const answer = await fetch(`${server.url}/pay`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': key },
            body,
          });
          expect([answer.status, answer.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
          return answer;
        },
        { timeout: 5_000, interval: 100 },
      );
      expect(await retry.json()).toEqual({ run: 1 });
      expect(runs.count).toBe(1);
    } finally {
      await server.close();
    }
  });
});
