import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { tollgate } from 'tollgate/fastify';
import { MemoryIdempotencyStore } from 'tollgate/idempotency';
import { RedisRateLimitStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis } from '../../../../testkit/index.ts';

const key = 'k_observability_0001';

async function app(options: Parameters<typeof tollgate>[1], lines: string[] = []) {
  const logs = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const fastify = Fastify({ logger: { level: 'info', stream: logs } });
  await fastify.register(tollgate, {
    principal: (request) => request.headers['x-account'] as string | undefined,
    ...options,
  });
  let n = 0;
  fastify.post(
    '/payments',
    {
      config: {
        tollgate: {
          idempotency: 'required',
          policies: [
            {
              name: 'ops',
              algorithm: 'fixed-window',
              limit: 2,
              windowSeconds: 86_400,
              subject: ['principal'],
            },
          ],
        },
      },
    },
    async () => ({ n: ++n }),
  );
  return fastify;
}

const post = (fastify: Awaited<ReturnType<typeof app>>, idempotencyKey: string, amount = 1) =>
  fastify.inject({
    method: 'POST',
    url: '/payments',
    headers: { 'idempotency-key': idempotencyKey, 'x-account': 'acct_obs', authorization: 'Bearer secret' },
    payload: { amount },
  });

async function sample(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = await registry.getSingleMetric(name.replace(/_count$/, ''))!.get();
  const values = metric.values as { value: number; labels: Record<string, unknown>; metricName?: string }[];
  return values.find(
    (v) => (v.metricName ?? name) === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )?.value;
}

describe('metrics and logs', () => {
  it('counts decisions by policy and outcome, replays, mismatches and store-call durations', async () => {
    const registry = new Registry();
    const fastify = await app({ metrics: registry });
    await post(fastify, key); // new: ops allowed
    await post(fastify, key); // replay
    await post(fastify, key, 2); // mismatch
    await post(fastify, 'k_observability_0002');
    expect((await post(fastify, 'k_observability_0003')).statusCode).toBe(429);
    const decisions = 'tollgate_http_decisions_total';
    expect(await sample(registry, decisions, { policy: 'ops', outcome: 'allowed' })).toBe(2);
    expect(await sample(registry, decisions, { policy: 'ops', outcome: 'limited' })).toBe(1);
    const idempotency = 'tollgate_http_idempotency_total';
    expect(await sample(registry, idempotency, { route: 'POST /payments', outcome: 'replay' })).toBe(1);
    expect(await sample(registry, idempotency, { route: 'POST /payments', outcome: 'mismatch' })).toBe(1);
    const calls = 'tollgate_http_store_call_duration_seconds_count';
    // One admission per request decides the limits and the key; nothing else is asked first.
    expect(await sample(registry, calls, { store: 'admission', operation: 'admit' })).toBe(5);
    expect(await sample(registry, calls, { store: 'idempotency', operation: 'begin' })).toBeUndefined();
    expect(await sample(registry, calls, { store: 'idempotency', operation: 'complete' })).toBe(2);
    await fastify.close();
  });

  it('logs the decision, policy and key hash, never the raw key or the Authorization header', async () => {
    const lines: string[] = [];
    const fastify = await app({}, lines);
    await post(fastify, key);
    await post(fastify, key);
    await post(fastify, 'k_observability_0002');
    await post(fastify, 'k_observability_0003');
    await fastify.close();
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const replay = events.find((event) => event.decision === 'replay');
    expect(replay).toMatchObject({
      keyHash: expect.stringMatching(/^[0-9a-f]{16}$/),
      route: 'POST /payments',
    });
    expect(events.find((event) => event.decision === 'limited')).toMatchObject({ policy: 'ops' });
    expect(lines.join('\n')).not.toContain('k_observability_');
    expect(lines.join('\n')).not.toContain('secret');
  });
});

describe('a dead Redis', () => {
  let redis: PrivateRedis;
  let client: Redis;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    client = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    client.on('error', () => undefined);
    await client.connect();
    await redis.kill();
  });
  afterAll(async () => {
    client.disconnect();
    await redis.dispose();
  });

  it('fails open or closed per policy, counts the store error, and never hangs', async () => {
    const registry = new Registry();
    const fastify = Fastify();
    await fastify.register(tollgate, {
      rateLimitStore: new RedisRateLimitStore({ redis: client }),
      idempotencyStore: new MemoryIdempotencyStore(),
      metrics: registry,
    });
    const policy = { algorithm: 'fixed-window', limit: 5, windowSeconds: 60, subject: ['ip'] } as const;
    fastify.get(
      '/open',
      { config: { tollgate: { policies: [{ ...policy, name: 'open' }] } } },
      async () => 'ok',
    );
    fastify.get(
      '/closed',
      { config: { tollgate: { policies: [{ ...policy, name: 'closed', onStoreError: 'closed' }] } } },
      async () => 'ok',
    );
    const open = await fastify.inject({ method: 'GET', url: '/open' });
    expect([open.statusCode, open.headers.ratelimit]).toEqual([200, undefined]);
    const closed = await fastify.inject({ method: 'GET', url: '/closed' });
    expect([closed.statusCode, closed.headers['retry-after']]).toEqual([503, '1']);
    expect(JSON.parse(closed.body)).toMatchObject({
      type: 'https://tollgate.dev/problems/rate-limit-unavailable',
      policies: ['closed'],
      retry_after: 1,
    });
    expect(await sample(registry, 'tollgate_http_store_errors_total', { store: 'admission' })).toBe(2);
    await fastify.close();
  });
});
