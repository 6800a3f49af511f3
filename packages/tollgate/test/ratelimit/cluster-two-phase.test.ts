import fc from 'fast-check';
import { Cluster } from 'ioredis';
import { definePolicy, RateLimiter } from 'tollgate';
import { RedisRateLimitStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPrefix, redisClusterNodes } from '../../../../testkit/index.ts';
import { assertPromiseKept } from './store-properties.ts';

const T0 = 1_800_000_000_000;

const bucket = (name: string, subject: 'principal'[]) =>
  fc
    .record({
      algorithm: fc.constantFrom('token-bucket' as const, 'gcra' as const),
      limit: fc.integer({ min: 1, max: 2 }),
      extraBurst: fc.integer({ min: 0, max: 2 }),
      windowMs: fc.constantFrom(1000, 2000),
    })
    .map(({ algorithm, limit, extraBurst, windowMs }) =>
      definePolicy({
        name,
        algorithm,
        limit,
        burst: limit + extraBurst,
        windowSeconds: windowMs / 1000,
        subject,
      }),
    );

/** A request, the clock moving on, or the oldest delayed second phase let through. */
const arbitraryEvents = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ request: fc.integer({ min: 0, max: 2 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        advanceMs: fc.oneof(fc.integer({ min: 1, max: 2500 }), fc.constantFrom(1000, 3000, 6000)),
      }),
    },
    { weight: 2, arbitrary: fc.record({ release: fc.constant(true) }) },
  ),
  { minLength: 1, maxLength: 50 },
);

describe('redis store on a Cluster: requests across slots in two phases', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = new Cluster(redisClusterNodes());
    await cluster.ping();
  });
  afterAll(() => cluster.disconnect());

  it('never admits more than each policy promises, whatever the delay of second phases (fast-check, token bucket and GCRA)', async () => {
    await fc.assert(
      fc.asyncProperty(
        bucket('global', []),
        bucket('user', ['principal']),
        arbitraryEvents,
        async (global, user, events) => {
          let now = T0;
          // Each request's phase 1 completes before the next event, so a second phase that is
          // held belongs to the request just sent; `release` lets the oldest one through.
          let held: ((release: () => void) => void) | undefined;
          const onHold = () => new Promise<void>((resolve) => held?.(() => resolve()));
          const limiter = new RateLimiter({
            store: new RedisRateLimitStore({
              redis: cluster,
              prefix: keyPrefix(),
              unsafeTestClock: { now: () => now },
              unsafeBeforeSecondPhase: onHold,
            }),
            policies: [global, user],
            storeTimeoutMs: 10_000,
            onStoreError: (error) => {
              throw error;
            },
          });
          const decided: Promise<{ at: number; allowed: boolean }>[] = [];
          const waiting: { release: () => void; done: Promise<unknown> }[] = [];
          for (const event of events) {
            if ('advanceMs' in event) now += event.advanceMs;
            else if ('release' in event) {
              const next = waiting.shift();
              next?.release();
              await next?.done;
            } else {
              const at = now;
              const done = limiter
                .check({ principal: `acct_${event.request}` })
                .then((result) => ({ at, allowed: result.allowed }));
              decided.push(done);
              const release = await Promise.race([
                done.then(() => undefined),
                new Promise<() => void>((resolve) => {
                  held = resolve;
                }),
              ]);
              held = undefined;
              if (release) waiting.push({ release, done });
            }
          }
          for (const { release } of waiting) release();
          const results = await Promise.all(decided);
          {
            const admitted = results.filter((r) => r.allowed);
            assertPromiseKept(
              global,
              admitted.map(({ at }) => ({ at, cost: 1 })),
            );
            for (let p = 0; p < 3; p++) {
              const mine = results.filter((r, i) => r.allowed && requestOf(events, i) === p);
              assertPromiseKept(
                user,
                mine.map(({ at }) => ({ at, cost: 1 })),
              );
            }
          }
        },
      ),
      {
        numRuns: 100,
        // The report: a cancel landing a refill late forgave a burst-1 bucket's token.
        examples: [
          [
            definePolicy({ name: 'global', algorithm: 'token-bucket', limit: 1, burst: 2, windowSeconds: 1 }),
            definePolicy({
              name: 'user',
              algorithm: 'gcra',
              limit: 1,
              burst: 1,
              windowSeconds: 1,
              subject: ['principal'],
            }),
            [
              { request: 1 },
              { request: 2 },
              { request: 0 },
              { advanceMs: 3000 },
              { request: 0 },
              { release: true },
              { request: 0 },
            ],
          ],
        ],
      },
    );
  });

  it('answers a refusal, never an error a fail-open policy would admit, when the second phase is lost', async () => {
    const limiter = new RateLimiter({
      store: new RedisRateLimitStore({
        redis: cluster,
        prefix: keyPrefix(),
        unsafeBeforeSecondPhase: () => Promise.reject(new Error('connection lost')),
      }),
      policies: [
        { name: 'global', algorithm: 'fixed-window', limit: 2, windowSeconds: 3600, onStoreError: 'open' },
        { name: 'user', algorithm: 'fixed-window', limit: 100, windowSeconds: 3600, subject: ['principal'] },
      ],
      storeTimeoutMs: 5000,
    });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await limiter.check({ principal: 'acct_1' }));
    expect(results.map((r) => r.reason)).toEqual([
      'allowed',
      'allowed',
      'limited',
      'limited',
      'limited',
      'limited',
    ]);
    // The lost cancels leave the user's units spent: the cluster admits less, never more.
    const peek = await limiter.peek({ principal: 'acct_1' });
    expect(peek.policies.find((p) => p.name === 'user')!.remaining).toBe(94);
  });
});

/** The principal of the i-th request among the events. */
function requestOf(events: readonly ({ request: number } | object)[], i: number): number {
  return events.filter((event): event is { request: number } => 'request' in event)[i]!.request;
}
