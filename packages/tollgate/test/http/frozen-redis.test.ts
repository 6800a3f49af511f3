/**
 * A Redis that stops answering (CLIENT PAUSE: it runs the queued commands when it wakes) must
 * neither hang a keyed request nor leave behind a claim nobody will run: the request answers
 * 503 within the deadline, and its retry, once Redis is back, runs the handler (once).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { MemoryRateLimitStore, type RateLimitStore } from 'tollgate';
import { tollgate } from 'tollgate/fastify';
import { RedisIdempotencyStore, RedisRateLimitStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis, waitFor } from '../../../../testkit/index.ts';

describe('a frozen Redis holding the keys', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let admin: Redis;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = new Redis(server.url);
    admin = new Redis(server.url);
    await redis.ping();
  });
  afterAll(async () => {
    redis.disconnect();
    admin.disconnect();
    await server.dispose();
  });

  /** An app whose POST /pay counts its runs; the keys live in Redis, the limits in `limits`. */
  async function app(
    limits: RateLimitStore,
  ): Promise<{ url: string; runs: () => number; close(): Promise<void> }> {
    let runs = 0;
    const fastify: FastifyInstance = Fastify();
    await fastify.register(tollgate, {
      rateLimitStore: limits,
      idempotencyStore: new RedisIdempotencyStore({ redis, prefix: `frozen:${Math.random()}:` }),
      principal: () => 'alice',
      policies: [
        { name: 'pay', algorithm: 'token-bucket', limit: 100, windowSeconds: 60, subject: ['principal'] },
      ],
    });
    fastify.post('/pay', { config: { tollgate: { idempotency: 'required' } } }, async (_request, reply) => {
      runs++;
      return reply.code(201).send({ ok: true });
    });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const { port } = fastify.server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}/pay`, runs: () => runs, close: () => fastify.close() };
  }

  const pay = (url: string, key: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: '{"amount":1}',
    });

  it.each([
    ['limits and keys in one admission on the same Redis', () => new RedisRateLimitStore({ redis })],
    ['limits in memory, the key claimed in Redis', () => new MemoryRateLimitStore()],
  ])('answers 503 while Redis is frozen, and the retry runs once it is back (%s)', async (_name, limits) => {
    const service = await app(limits());
    try {
      const key = `frozen-key-${Math.random().toString(36).slice(2)}-0001`;
      const pauseMs = 3000;
      await admin.client('PAUSE', pauseMs, 'ALL');
      const started = performance.now();
      const during = await pay(service.url, key);
      const waited = performance.now() - started;
      expect(during.status).toBe(503);
      expect(during.headers.get('retry-after')).toBe('1');
      // Answered while Redis was still frozen, not when it woke (it hung until then before).
      expect(waited).toBeLessThan(pauseMs - 500);
      expect(service.runs()).toBe(0);

      // Redis wakes and runs the queued claim; nobody will run it, so it is given back.
      await waitFor(async () => (await pay(service.url, key)).status === 201, 'the retry runs', 10_000);
      expect(service.runs()).toBe(1);
      const replay = await pay(service.url, key);
      expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
      expect(service.runs()).toBe(1);
    } finally {
      await service.close();
    }
  });
});
