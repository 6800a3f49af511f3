import { Cluster } from 'ioredis';
import { RateLimiter } from 'tollgate';
import { RedisRateLimitStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPrefix, redisClusterNodes } from '../../../../testkit/index.ts';
import { checkStoreProperties } from './store-properties.ts';

describe('redis store on a 3-master Redis Cluster', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = new Cluster(redisClusterNodes());
    await cluster.ping();
  });
  afterAll(() => cluster.disconnect());

  it('keeps every algorithm property (fast-check)', async () => {
    await checkStoreProperties(
      async (clock) =>
        new RedisRateLimitStore({ redis: cluster, prefix: keyPrefix(), unsafeTestClock: clock }),
      15,
    );
  });

  it('checks policies of one principal in one slot and spreads principals over the masters', async () => {
    const prefix = keyPrefix();
    const limiter = new RateLimiter({
      store: new RedisRateLimitStore({ redis: cluster, prefix }),
      policies: [
        { name: 'user', algorithm: 'sliding-window', limit: 100, windowSeconds: 60, subject: ['principal'] },
        {
          name: 'route',
          algorithm: 'fixed-window',
          limit: 10,
          windowSeconds: 60,
          subject: ['principal', 'route'],
        },
        {
          name: 'burst',
          algorithm: 'token-bucket',
          limit: 20,
          windowSeconds: 1,
          burst: 50,
          subject: ['principal'],
        },
      ],
    });
    for (let i = 0; i < 30; i++) {
      expect((await limiter.check({ principal: `acct_${i}`, route: 'POST /pay' })).allowed).toBe(true);
    }
    const slots = new Set<number>();
    for (const master of cluster.nodes('master')) {
      for (const key of await master.keys(`${prefix}*`))
        slots.add(Number(await master.cluster('KEYSLOT', key)));
    }
    expect(slots.size).toBe(30);
  });

  it('stays all-or-nothing across slots: a denied global policy leaves per-principal counters untouched', async () => {
    const prefix = keyPrefix();
    const limiter = new RateLimiter({
      store: new RedisRateLimitStore({ redis: cluster, prefix }),
      policies: [
        { name: 'global', algorithm: 'fixed-window', limit: 5, windowSeconds: 3600 },
        { name: 'ip', algorithm: 'fixed-window', limit: 100, windowSeconds: 3600, subject: ['ip'] },
        // A window's count is given back exactly; a bucket gives back only what has not refilled
        // since (see the two-phase property below).
        { name: 'user', algorithm: 'fixed-window', limit: 100, windowSeconds: 3600, subject: ['principal'] },
      ],
      storeTimeoutMs: 5000,
    });
    const racers = Array.from({ length: 40 }, (_, i) =>
      limiter.check({ ip: '10.0.0.1', principal: `acct_${i % 4}` }),
    );
    const results = await Promise.all(racers);
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    const after = await limiter.peek({ ip: '10.0.0.1', principal: 'acct_0' });
    const byName = Object.fromEntries(after.policies.map((p) => [p.name, p.remaining]));
    expect(byName.global).toBe(0);
    expect(byName.ip).toBe(95);
    const users = await Promise.all(
      [0, 1, 2, 3].map((i) => limiter.peek({ ip: '10.0.0.1', principal: `acct_${i}` })),
    );
    const spentByUsers = users.reduce(
      (sum, r) => sum + (100 - r.policies.find((p) => p.name === 'user')!.remaining),
      0,
    );
    expect(spentByUsers).toBe(5);
  });
});
