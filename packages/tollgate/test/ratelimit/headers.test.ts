import fc from 'fast-check';
import { parseList, serializeList } from 'structured-headers';
import { MemoryRateLimitStore, RateLimiter, type RateLimitResult, rateLimitHeaders } from 'tollgate';
import { describe, expect, it } from 'vitest';

async function decide(requests: number): Promise<RateLimitResult> {
  const limiter = new RateLimiter({
    store: new MemoryRateLimitStore({ clock: { now: () => 120_000 } }),
    policies: [
      {
        name: 'per-user',
        algorithm: 'sliding-window',
        limit: 100,
        windowSeconds: 60,
        subject: ['principal'],
      },
      {
        name: 'payments',
        algorithm: 'fixed-window',
        limit: 3,
        windowSeconds: 60,
        subject: ['principal', 'route'],
      },
      { name: 'trial', algorithm: 'gcra', limit: 1, windowSeconds: 60, mode: 'shadow' },
    ],
  });
  let result!: RateLimitResult;
  for (let i = 0; i < requests; i++)
    result = await limiter.check({ principal: 'acct_1', route: 'POST /pay' });
  return result;
}

describe('rateLimitHeaders', () => {
  it('writes draft-10 RateLimit-Policy and RateLimit lists, one item per policy, that parse back', async () => {
    const headers = rateLimitHeaders(await decide(2));
    expect(parseList(headers['RateLimit-Policy']!)).toEqual([
      [
        'per-user',
        new Map([
          ['q', 100],
          ['w', 60],
        ]),
      ],
      [
        'payments',
        new Map([
          ['q', 3],
          ['w', 60],
        ]),
      ],
      [
        'trial',
        new Map([
          ['q', 1],
          ['w', 60],
        ]),
      ],
    ]);
    expect(parseList(headers.RateLimit!)).toEqual([
      [
        'per-user',
        new Map([
          ['r', 98],
          ['t', 120],
        ]),
      ],
      [
        'payments',
        new Map([
          ['r', 1],
          ['t', 60],
        ]),
      ],
      [
        'trial',
        new Map([
          ['r', 0],
          ['t', 60],
        ]),
      ],
    ]);
    expect(headers['Retry-After']).toBeUndefined();
  });

  it('gives legacy X-RateLimit-* for the tightest enforcing policy, Reset as delta seconds', async () => {
    const headers = rateLimitHeaders(await decide(2));
    expect(headers).toMatchObject({
      'X-RateLimit-Limit': '3',
      'X-RateLimit-Remaining': '1',
      'X-RateLimit-Reset': '60',
    });
  });

  it('adds Retry-After in whole seconds on a rejection', async () => {
    const result = await decide(4);
    expect(result.allowed).toBe(false);
    const headers = rateLimitHeaders(result);
    expect(headers['Retry-After']).toBe('60');
    expect(parseList(headers.RateLimit!)[1]).toEqual([
      'payments',
      new Map([
        ['r', 0],
        ['t', 60],
      ]),
    ]);
  });

  it('can leave out either family, and says nothing about counters it could not read', async () => {
    const result = await decide(1);
    expect(Object.keys(rateLimitHeaders(result, { legacy: false }))).toEqual([
      'RateLimit-Policy',
      'RateLimit',
    ]);
    expect(Object.keys(rateLimitHeaders(result, { draft: false }))).toEqual([
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
    ]);
    const unavailable: RateLimitResult = {
      ...result,
      allowed: false,
      reason: 'store-unavailable',
      retryAfterSeconds: 1,
    };
    expect(rateLimitHeaders(unavailable)).toEqual({ 'Retry-After': '1' });
  });

  it('writes exactly what structured-headers would, for any names and counts (fast-check)', () => {
    const policy = fc.record({
      name: fc.oneof(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
        fc.string({ minLength: 1, maxLength: 12 }).filter((n) => /^[\x20-\x7e]+$/.test(n)),
      ),
      limit: fc.integer({ min: 1, max: 1e9 }),
      windowSeconds: fc.integer({ min: 1, max: 86_400 }),
      remaining: fc.integer({ min: 0, max: 1e9 }),
      resetSeconds: fc.integer({ min: 0, max: 86_400 }),
    });
    fc.assert(
      fc.property(fc.array(policy, { minLength: 1, maxLength: 4 }), (policies) => {
        const result: RateLimitResult = {
          allowed: true,
          reason: 'allowed',
          retryAfterSeconds: 0,
          policies: policies.map((p) => ({ ...p, allowed: true, retryAfterSeconds: 0, shadow: false })),
        };
        const headers = rateLimitHeaders(result);
        expect(headers['RateLimit-Policy']).toBe(
          serializeList(
            policies.map((p) => [
              p.name,
              new Map([
                ['q', p.limit],
                ['w', p.windowSeconds],
              ]),
            ]),
          ),
        );
        expect(headers.RateLimit).toBe(
          serializeList(
            policies.map((p) => [
              p.name,
              new Map([
                ['r', p.remaining],
                ['t', p.resetSeconds],
              ]),
            ]),
          ),
        );
      }),
    );
  });
});
