import { definePolicy, MemoryRateLimitStore, RateLimiter } from 'tollgate';
import { describe, expect, it } from 'vitest';
import { checkStoreProperties } from './store-properties.ts';

describe('memory store', () => {
  it('keeps every algorithm property (fast-check)', async () => {
    await checkStoreProperties(async (clock) => new MemoryRateLimitStore({ clock }), 150);
  });

  it('is exact under concurrency within one process', async () => {
    const limiter = new RateLimiter({
      store: new MemoryRateLimitStore(),
      policies: [{ name: 'p', algorithm: 'fixed-window', limit: 37, windowSeconds: 3600 }],
    });
    const results = await Promise.all(Array.from({ length: 500 }, () => limiter.check({})));
    expect(results.filter((r) => r.allowed)).toHaveLength(37);
  });

  it('drops idle keys without a timer and stays bounded at maxKeys', async () => {
    let now = 1_000_000;
    const store = new MemoryRateLimitStore({ clock: { now: () => now }, maxKeys: 50 });
    const limiter = new RateLimiter({
      store,
      policies: [{ name: 'p', algorithm: 'token-bucket', limit: 5, windowSeconds: 1, subject: ['ip'] }],
    });
    for (let i = 0; i < 40; i++) await limiter.check({ ip: `10.0.0.${i}` });
    expect(store.size).toBe(40);
    now += 1000; // every bucket is full again: the keys are idle
    for (let i = 0; i < 40; i++) await limiter.check({ ip: 'busy' });
    expect(store.size).toBe(1);
    for (let i = 0; i < 200; i++) await limiter.check({ ip: `x${i}` });
    expect(store.size).toBeLessThanOrEqual(50);
  });

  it("at maxKeys, a decision that adds a key never writes one subject's counter into another's", async () => {
    const store = new MemoryRateLimitStore({ clock: { now: () => 5_000 }, maxKeys: 1 });
    const perIp = definePolicy({
      name: 'per-ip',
      algorithm: 'fixed-window',
      limit: 5,
      windowSeconds: 60,
      subject: ['ip'],
    });
    const perUser = definePolicy({
      name: 'per-user',
      algorithm: 'fixed-window',
      limit: 5,
      windowSeconds: 60,
      subject: ['principal'],
    });
    await new RateLimiter({ store, policies: [perIp] }).check({ ip: 'x' });
    // The new key comes first: taking its slot drops `x`, the one key held, under the hand.
    await new RateLimiter({ store, policies: [perUser, perIp] }).check(
      { principal: 'u', ip: 'x' },
      { cost: 2 },
    );
    expect(store.size).toBe(1);
    const [user, ip] = store.decideNow(
      [
        { policy: perUser, subject: 'u', cost: 1 },
        { policy: perIp, subject: 'x', cost: 1 },
      ],
      'peek',
    );
    // `u` was dropped in turn to hold `x` again, with x's own count (1 + 2) and nothing of u's.
    expect(user!.remaining).toBe(4);
    expect(ip!.remaining).toBe(1);
  });

  it('refunds cost back to the counter', async () => {
    const store = new MemoryRateLimitStore({ clock: { now: () => 5_000 } });
    const policy = definePolicy({ name: 'p', algorithm: 'fixed-window', limit: 2, windowSeconds: 60 });
    const limiter = new RateLimiter({ store, policies: [policy] });
    await limiter.check({}, { cost: 2 });
    expect((await limiter.check({})).allowed).toBe(false);
    await limiter.refund({});
    expect((await limiter.check({})).allowed).toBe(true);
  });
});
