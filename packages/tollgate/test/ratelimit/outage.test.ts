import { Redis } from 'ioredis';
import { RateLimiter, type RateLimitResult } from 'tollgate';
import { RedisRateLimitStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis, waitFor } from '../../../../testkit/index.ts';

/** Each policy decides for itself what a store failure means. */
const policies = [
  { name: 'open', algorithm: 'fixed-window', limit: 100, windowSeconds: 60, onStoreError: 'open' },
  { name: 'closed', algorithm: 'fixed-window', limit: 100, windowSeconds: 60, onStoreError: 'closed' },
] as const;

describe('redis outage', () => {
  let server: PrivateRedis;
  let redis: Redis;
  const errors: unknown[] = [];
  const limiter = (only: 'open' | 'closed') =>
    new RateLimiter({
      store: new RedisRateLimitStore({ redis }),
      policies: policies.filter((p) => p.name === only),
      storeTimeoutMs: 100,
      onStoreError: (error) => errors.push(error),
    });

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    redis.on('error', () => undefined);
    await redis.ping();
  });
  afterAll(async () => {
    redis.disconnect();
    await server.dispose();
  });

  it('answers within the deadline when Redis dies, then recovers when it is back', async () => {
    expect((await limiter('closed').check({})).reason).toBe('allowed');

    await server.kill();
    const started = performance.now();
    const [open, closed] = await Promise.all([limiter('open').check({}), limiter('closed').check({})]);
    const waited = performance.now() - started;
    expect(open).toMatchObject<Partial<RateLimitResult>>({ allowed: true, reason: 'store-unavailable' });
    expect(closed).toMatchObject<Partial<RateLimitResult>>({
      allowed: false,
      reason: 'store-unavailable',
      retryAfterSeconds: 1,
    });
    // Not a timing assertion on our speed: a hung request would wait for the 30 s test timeout.
    expect(waited).toBeLessThan(5_000);
    expect(errors.length).toBeGreaterThanOrEqual(2);

    await server.start();
    await waitFor(async () => redis.status === 'ready', 'client reconnect');
    const back = await limiter('closed').check({});
    expect(back.reason).toBe('allowed');
    expect(back.policies[0]!.remaining).toBe(99); // restarted empty
  });

  it('times out a Redis that stops answering (CLIENT PAUSE) instead of hanging', async () => {
    const admin = new Redis(server.url);
    await admin.client('PAUSE', 1500, 'ALL');
    const result = await limiter('closed').check({});
    expect(result).toMatchObject({ allowed: false, reason: 'store-unavailable' });
    expect(errors.at(-1)).toMatchObject({ code: 'ERR_STORE_TIMEOUT' });
    await admin.client('UNPAUSE');
    admin.disconnect();
  });
});
