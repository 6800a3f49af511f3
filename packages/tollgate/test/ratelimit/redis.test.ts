import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { algorithmNames, RateLimiter } from 'tollgate';
import { RedisRateLimitStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPrefix, PrivateRedis, redisUrl } from '../../../../testkit/index.ts';
import { rateLimitScript } from '../../src/ratelimit/stores/redis-script.ts';
import { RedisScript } from '../../src/scripting/script.ts';
import { checkStoreProperties } from './store-properties.ts';

describe('redis store (single node)', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(() => redis.disconnect());

  it('keeps every algorithm property, computed by the Lua twins (fast-check)', async () => {
    await checkStoreProperties(
      async (clock) => new RedisRateLimitStore({ redis, prefix: keyPrefix(), unsafeTestClock: clock }),
      40,
    );
  });

  it('admits exactly the limit when 300 requests race on 6 connections, using the server clock', async () => {
    const clients = Array.from({ length: 6 }, () => new Redis(redisUrl()));
    const prefix = keyPrefix();
    const limiters = clients.map(
      (client) =>
        new RateLimiter({
          store: new RedisRateLimitStore({ redis: client, prefix }),
          policies: [
            {
              name: 'tb',
              algorithm: 'token-bucket',
              limit: 1,
              windowSeconds: 3600,
              burst: 25,
              subject: ['principal'],
            },
            {
              name: 'sw',
              algorithm: 'sliding-window',
              limit: 40,
              windowSeconds: 3600,
              subject: ['principal'],
            },
          ],
          storeTimeoutMs: 5000,
        }),
    );
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => limiters[i % limiters.length]!.check({ principal: 'acct_race' })),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(25);
    const denied = results.find((r) => !r.allowed)!;
    expect(denied.reason).toBe('limited');
    expect(denied.retryAfterSeconds).toBeGreaterThanOrEqual(3599);
    for (const client of clients) client.disconnect();
  });

  it('keeps state under the prefix with a TTL that ends when the counter is empty again', async () => {
    const prefix = keyPrefix();
    const limiter = new RateLimiter({
      store: new RedisRateLimitStore({ redis, prefix }),
      policies: [
        {
          name: 'fw',
          algorithm: 'fixed-window',
          limit: 5,
          windowSeconds: 30,
          subject: ['principal', 'route'],
        },
      ],
    });
    await limiter.check({ principal: 'a{b}c', route: 'POST /x' });
    const keys = await redis.keys(`${prefix}*`);
    expect(keys).toEqual([`${prefix}{a%7bb%7dc}fw:a%7bb%7dc|POST /x`]);
    const ttl = await redis.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('ships scripts whose SHA1 is what the server computes, one per algorithm set', async () => {
    const sets = [['gcra'], ['fixed-window', 'token-bucket'], [...algorithmNames]] as const;
    for (const set of sets) {
      const script = rateLimitScript(set);
      expect(await redis.script('LOAD', script.source)).toBe(script.sha);
      expect(script.sha).toBe(createHash('sha1').update(script.source).digest('hex'));
      expect(rateLimitScript([...set].reverse())).toBe(script);
    }
    expect(rateLimitScript(['gcra']).source).not.toContain("algorithms['token-bucket']");
  });

  it('falls back to EVAL when the server has lost its script cache (NOSCRIPT)', async () => {
    const server = await PrivateRedis.start();
    const client = new Redis(server.url);
    const limiter = new RateLimiter({
      store: new RedisRateLimitStore({ redis: client }),
      policies: [{ name: 'g', algorithm: 'gcra', limit: 3, windowSeconds: 60 }],
      storeTimeoutMs: 5000, // the NOSCRIPT fallback is two round trips: load must not fail it open
    });
    expect((await limiter.check({})).allowed).toBe(true);
    await client.script('FLUSH');
    expect(
      Number(await client.script('EXISTS', rateLimitScript(['gcra']).sha).then((r) => (r as number[])[0])),
    ).toBe(0);
    expect((await limiter.check({})).policies[0]!.remaining).toBe(1);
    client.disconnect();
    await server.dispose();
  });

  it('works on a client that auto-pipelines, scripts and their NOSCRIPT fallback alike', async () => {
    // ioredis auto-pipelines call()/callBuffer() without a command name and throws from a timer:
    // the scripts must be sent with evalsha()/evalshaBuffer(), which it pipelines correctly.
    const server = await PrivateRedis.start();
    const client = new Redis(server.url, { enableAutoPipelining: true });
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      const limiter = new RateLimiter({
        store: new RedisRateLimitStore({ redis: client }),
        policies: [{ name: 'g', algorithm: 'gcra', limit: 3, windowSeconds: 60 }],
        storeTimeoutMs: 5000, // the NOSCRIPT fallback is two round trips: load must not fail it open
      });
      const first = await Promise.all([limiter.check({}), limiter.check({})]);
      expect(first.map((result) => result.allowed)).toEqual([true, true]);
      await client.script('FLUSH');
      const after = await limiter.check({});
      expect(after.allowed).toBe(true);
      expect(after.policies[0]!.remaining).toBe(0);
      // The admissions' path: replies as Buffers, through the same fallback.
      const echo = new RedisScript('echo.lua', 'return { KEYS[1], ARGV[1] }');
      const replies = await Promise.all([echo.runBuffer(client, ['k'], ['v']), echo.run(client, ['k'], [2])]);
      expect(replies).toEqual([
        [Buffer.from('k'), Buffer.from('v')],
        ['k', '2'],
      ]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', record);
      client.disconnect();
      await server.dispose();
    }
  });

  it('decides the requests of one tick in one script call, each all-or-nothing, in order', async () => {
    const server = await PrivateRedis.start();
    const client = new Redis(server.url);
    const limiter = new RateLimiter({
      store: new RedisRateLimitStore({ redis: client }),
      policies: [
        { name: 'global', algorithm: 'fixed-window', limit: 3, windowSeconds: 3600 },
        { name: 'user', algorithm: 'fixed-window', limit: 2, windowSeconds: 3600, subject: ['principal'] },
      ],
    });
    await client.config('RESETSTAT');
    const principals = ['x', 'x', 'x', 'y', 'y', 'z'];
    const results = await Promise.all(principals.map((principal) => limiter.check({ principal })));
    // x, x admitted; the third x denied by 'user' and so consumes no 'global'; y admitted;
    // then 'global' is spent: y and z denied.
    expect(results.map((r) => r.allowed)).toEqual([true, true, false, true, false, false]);
    expect(results[2]!.policies.map((p) => p.allowed)).toEqual([true, false]);
    const stats = await client.info('commandstats');
    /** Script executions: calls that did not fail (an EVALSHA answered NOSCRIPT ran nothing). */
    const calls = (command: string) => {
      const match = stats.match(new RegExp(`cmdstat_${command}:calls=(\\d+),.*?failed_calls=(\\d+)`));
      return match ? Number(match[1]) - Number(match[2]) : 0;
    };
    expect(calls('evalsha') + calls('eval')).toBe(1);
    client.disconnect();
    await server.dispose();
  });

  it('splits a tick of many requests with many policies into script calls Lua can unpack', async () => {
    const policies = Array.from({ length: 100 }, (_, i) => ({
      name: `p${i}`,
      algorithm: 'fixed-window' as const,
      limit: 1000,
      windowSeconds: 60,
      subject: ['principal' as const],
    }));
    const limiter = new RateLimiter({
      store: new RedisRateLimitStore({ redis, prefix: keyPrefix() }),
      policies,
      storeTimeoutMs: 10_000,
    });
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => limiter.check({ principal: `u${i % 7}` })),
    );
    expect(results.every((r) => r.reason === 'allowed')).toBe(true);
    const after = await limiter.peek({ principal: 'u0' });
    expect(after.policies.map((p) => p.remaining)).toEqual(Array(100).fill(1000 - 43));
  });
});
