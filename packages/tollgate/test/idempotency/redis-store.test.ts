import { Redis } from 'ioredis';
import { RedisIdempotencyStore } from 'tollgate/redis';
import { describe, expect, it } from 'vitest';
import { keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import { describeStoreContract } from './contract.ts';

describeStoreContract('redis', async () => {
  const redis = new Redis(redisUrl());
  return {
    store: new RedisIdempotencyStore({ redis, prefix: keyPrefix() }),
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    shortMs: 150,
    expiresItself: true,
    close: async () => void redis.disconnect(),
  };
});

describe('redis lookup', () => {
  it('reads a completed record with one HMGET, and nothing else', async () => {
    const redis = new Redis(redisUrl());
    try {
      const store = new RedisIdempotencyStore({ redis, prefix: keyPrefix() });
      const request = { scope: 'lookup-scope', fingerprint: 'fp-1', leaseMs: 5_000, ttlMs: 60_000 };
      expect(await store.lookup(request.scope)).toBeNull(); // absent
      const claimed = await store.claim(request);
      if (!claimed.claimed) throw new Error('the first claim must win');
      expect(await store.lookup(request.scope)).toBeNull(); // in flight: the claim path decides
      const response = {
        status: 201,
        headers: [['content-type', 'application/json']] as const,
        body: Buffer.from('{"ok":1}'),
        bodyOmitted: false,
      };
      await store.complete({
        scope: request.scope,
        fence: claimed.fence,
        fingerprint: 'fp-1',
        response,
        ttlMs: 60_000,
      });
      const found = await store.lookup(request.scope);
      expect(found).toMatchObject({
        state: 'completed',
        fingerprint: 'fp-1',
        response: { status: 201, bodyOmitted: false },
      });
      expect(Buffer.from(found!.response!.body).toString()).toBe('{"ok":1}');
    } finally {
      redis.disconnect();
    }
  });
});
