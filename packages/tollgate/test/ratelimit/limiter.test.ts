import fc from 'fast-check';
import { definePolicy, MemoryRateLimitStore, RateLimiter, TollgateError } from 'tollgate';
import { describe, expect, it } from 'vitest';

const at = (now: number) => new MemoryRateLimitStore({ clock: { now: () => now } });

describe('RateLimiter', () => {
  it('counts a shadow policy and reports it, but never rejects for it', async () => {
    const limiter = new RateLimiter({
      store: at(0),
      policies: [
        { name: 'real', algorithm: 'fixed-window', limit: 10, windowSeconds: 60 },
        { name: 'trial', algorithm: 'fixed-window', limit: 2, windowSeconds: 60, mode: 'shadow' },
      ],
    });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.check({}));
    expect(results.every((r) => r.allowed && r.reason === 'allowed')).toBe(true);
    const trial = results[3]!.policies.find((p) => p.name === 'trial')!;
    expect(trial).toMatchObject({ shadow: true, allowed: false, remaining: 0 });
    expect(results[3]!.policies.find((p) => p.name === 'real')!.remaining).toBe(6);
  });

  it('reports what is left truthfully, refused or not: a check says what a peek right after says', async () => {
    const policy = fc.record({
      algorithm: fc.constantFrom('fixed-window', 'sliding-window', 'token-bucket', 'gcra'),
      limit: fc.integer({ min: 1, max: 8 }),
      windowSeconds: fc.integer({ min: 1, max: 100 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(policy, { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 12 }),
        async (shapes, costs) => {
          const policies = shapes.map((shape, i) => ({ ...shape, name: `p${i}` }));
          const limiter = new RateLimiter({ store: at(0), policies });
          const most = Math.min(...policies.map((p) => p.limit));
          for (const wanted of costs) {
            const cost = Math.min(wanted, most);
            const checked = await limiter.check({}, { cost });
            const peeked = await limiter.peek({}, { cost });
            // Before: a refused check reported the admitting policies as if its cost were taken.
            expect(checked.policies.map((p) => p.remaining)).toEqual(peeked.policies.map((p) => p.remaining));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps its limits in this process when no store is given (it admitted everything)', async () => {
    const limiter = new RateLimiter({
      policies: [{ name: 'one', algorithm: 'fixed-window', limit: 1, windowSeconds: 60 }],
    });
    expect((await limiter.check({})).allowed).toBe(true);
    expect(await limiter.check({})).toMatchObject({ allowed: false, reason: 'limited' });
  });

  it('skips a policy whose subject the request lacks (no principal before authentication)', async () => {
    const limiter = new RateLimiter({
      store: at(0),
      policies: [
        { name: 'ip', algorithm: 'gcra', limit: 5, windowSeconds: 1, subject: ['ip'] },
        { name: 'user', algorithm: 'gcra', limit: 5, windowSeconds: 1, subject: ['principal'] },
      ],
    });
    const result = await limiter.check({ ip: '127.0.0.1' });
    expect(result.policies.map((p) => p.name)).toEqual(['ip']);
    expect(await limiter.check({})).toEqual({
      allowed: true,
      reason: 'allowed',
      retryAfterSeconds: 0,
      policies: [],
    });
  });

  it('keeps subjects apart, including values that try to forge a separator', async () => {
    const limiter = new RateLimiter({
      store: at(0),
      policies: [
        {
          name: 'pr',
          algorithm: 'fixed-window',
          limit: 1,
          windowSeconds: 60,
          subject: ['principal', 'route'],
        },
      ],
    });
    expect((await limiter.check({ principal: 'a|route=b', route: 'c' })).allowed).toBe(true);
    expect((await limiter.check({ principal: 'a', route: 'b|route=c' })).allowed).toBe(true);
    expect((await limiter.check({ principal: 'a', route: 'b|route=c' })).allowed).toBe(false);
  });

  it('reports the longest wait among the enforcing policies that deny', async () => {
    const limiter = new RateLimiter({
      store: at(10_000),
      policies: [
        { name: 'second', algorithm: 'fixed-window', limit: 1, windowSeconds: 1 },
        { name: 'minute', algorithm: 'fixed-window', limit: 1, windowSeconds: 60 },
      ],
    });
    await limiter.check({});
    const denied = await limiter.check({});
    expect(denied).toMatchObject({ allowed: false, reason: 'limited', retryAfterSeconds: 50 });
    expect(denied.policies.map((p) => p.retryAfterSeconds)).toEqual([1, 50]);
  });

  it('rejects impossible policies and costs with stable error codes', async () => {
    const bad = (options: Parameters<typeof definePolicy>[0]) => () => definePolicy(options);
    expect(bad({ name: 'x', algorithm: 'gcra', limit: 0, windowSeconds: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_INVALID' }),
    );
    expect(bad({ name: 'x y', algorithm: 'gcra', limit: 1, windowSeconds: 1 })).toThrow(TollgateError);
    expect(bad({ name: 'x', algorithm: 'fixed-window', limit: 1, windowSeconds: 1, burst: 5 })).toThrow(
      /burst/,
    );
    expect(bad({ name: 'x', algorithm: 'gcra', limit: 1, windowSeconds: 0.0001 })).toThrow(/windowSeconds/);
    // A typo must not silently enforce (or fail closed): `mode: 'shadw'` enforced before.
    const typo = { name: 'x', algorithm: 'gcra', limit: 1, windowSeconds: 1 } as const;
    expect(bad({ ...typo, mode: 'shadw' as 'shadow' })).toThrow(/mode must be "enforce" or "shadow"/);
    expect(bad({ ...typo, onStoreError: 'bogus' as 'open' })).toThrow(/onStoreError/);
    expect(
      () =>
        new RateLimiter({
          store: at(0),
          policies: [
            { name: 'x', algorithm: 'gcra', limit: 1, windowSeconds: 1 },
            { name: 'x', algorithm: 'gcra', limit: 2, windowSeconds: 1 },
          ],
        }),
    ).toThrow(/unique/);
    const limiter = new RateLimiter({
      store: at(0),
      policies: [{ name: 'x', algorithm: 'gcra', limit: 3, windowSeconds: 1 }],
    });
    await expect(limiter.check({}, { cost: 4 })).rejects.toMatchObject({ code: 'ERR_COST_EXCEEDS_LIMIT' });
    await expect(limiter.check({}, { cost: 1.5 })).rejects.toMatchObject({ code: 'ERR_COST_INVALID' });
  });

  it('decides an in-process check before it returns, and a failing store falls back to onStoreError', async () => {
    const store = at(0);
    const policy = definePolicy({ name: 'once', algorithm: 'fixed-window', limit: 1, windowSeconds: 60 });
    const limiter = new RateLimiter({ store, policies: [policy] });
    const pending = limiter.check({});
    // Spent already: nothing can slip in between the call and the counter.
    expect(store.decideNow([{ policy, subject: '*', cost: 1 }], 'peek')[0]!.allowed).toBe(false);
    expect((await pending).allowed).toBe(true);

    const errors: unknown[] = [];
    const broken = new RateLimiter({
      store: new MemoryRateLimitStore({
        clock: {
          now: () => {
            throw new Error('clock gone');
          },
        },
      }),
      policies: [{ ...policy, onStoreError: 'closed' }],
      onStoreError: (error) => errors.push(error),
    });
    expect(await broken.check({})).toMatchObject({
      allowed: false,
      reason: 'store-unavailable',
      retryAfterSeconds: 1,
    });
    expect(errors).toHaveLength(1);
  });
});
