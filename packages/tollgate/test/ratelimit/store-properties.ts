/**
 * Properties every rate-limit store must keep, for every algorithm, driven by a clock the
 * test controls. `open` builds a fresh, empty store reading that clock.
 */
import fc from 'fast-check';
import {
  type AlgorithmName,
  algorithmNames,
  type Clock,
  definePolicy,
  type Policy,
  RateLimiter,
  type RateLimitStore,
} from 'tollgate';
import { expect } from 'vitest';

export type OpenStore = (clock: Pick<Clock, 'now'>) => Promise<RateLimitStore>;

const T0 = 1_800_000_000_000;

/** A store fault must fail the property, not be admitted by a fail-open policy. */
const rethrow = (error: unknown) => {
  throw error;
};

const arbitraryPolicy = (name: string): fc.Arbitrary<Policy> =>
  fc
    .record({
      algorithm: fc.constantFrom<AlgorithmName>(...algorithmNames),
      limit: fc.integer({ min: 1, max: 12 }),
      windowMs: fc.constantFrom(1000, 1500, 7000, 60_000),
      extraBurst: fc.integer({ min: 0, max: 6 }),
    })
    .map(({ algorithm, limit, windowMs, extraBurst }) =>
      definePolicy({
        name,
        algorithm,
        limit,
        windowSeconds: windowMs / 1000,
        ...(algorithm === 'token-bucket' || algorithm === 'gcra' ? { burst: limit + extraBurst } : {}),
      }),
    );

const arbitraryRequests = fc.array(
  fc.record({
    gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 9000 })),
    cost: fc.integer({ min: 1, max: 3 }),
  }),
  { minLength: 1, maxLength: 60 },
);

/** Replays admitted requests against what the policy promises over every span. */
export function assertPromiseKept(policy: Policy, admitted: readonly { at: number; cost: number }[]): void {
  const { limit, windowMs, burst } = policy;
  if (policy.algorithm === 'token-bucket' || policy.algorithm === 'gcra') {
    // In any span [a, b]: at most burst + limit·(b − a)/windowMs units (integer-scaled).
    for (let i = 0; i < admitted.length; i++) {
      let sum = 0;
      for (let j = i; j < admitted.length; j++) {
        sum += admitted[j]!.cost;
        expect(sum * windowMs).toBeLessThanOrEqual(
          burst * windowMs + limit * (admitted[j]!.at - admitted[i]!.at),
        );
      }
    }
    return;
  }
  const perWindow = new Map<number, number>();
  for (const { at, cost } of admitted) {
    const start = at - (at % windowMs);
    const count = (perWindow.get(start) ?? 0) + cost;
    perWindow.set(start, count);
    expect(count).toBeLessThanOrEqual(limit);
    if (policy.algorithm === 'sliding-window') {
      const previous = perWindow.get(start - windowMs) ?? 0;
      expect(previous * (windowMs - (at - start)) + count * windowMs).toBeLessThanOrEqual(limit * windowMs);
    }
  }
}

export async function checkStoreProperties(open: OpenStore, runs: number): Promise<void> {
  // 1. Never admits more than the policy promises, whatever the arrival pattern.
  await fc.assert(
    fc.asyncProperty(arbitraryPolicy('p'), arbitraryRequests, async (policy, requests) => {
      let now = T0 + 123;
      const limiter = new RateLimiter({
        store: await open({ now: () => now }),
        policies: [policy],
        storeTimeoutMs: 5000,
        onStoreError: rethrow,
      });
      const admitted: { at: number; cost: number }[] = [];
      for (const { gapMs, cost } of requests) {
        now += gapMs;
        if (cost > policy.burst) continue;
        const result = await limiter.check({}, { cost });
        if (result.allowed) admitted.push({ at: now, cost });
      }
      assertPromiseKept(policy, admitted);
    }),
    { numRuns: runs },
  );

  // 2. Retry-After is exact: admitted at that instant, denied one millisecond before.
  await fc.assert(
    fc.asyncProperty(arbitraryPolicy('p'), arbitraryRequests, async (policy, requests) => {
      let now = T0 + 7;
      const store = await open({ now: () => now });
      const limiter = new RateLimiter({
        store,
        policies: [policy],
        storeTimeoutMs: 5000,
        onStoreError: rethrow,
      });
      for (const { gapMs, cost } of requests) {
        now += gapMs;
        const units = Math.min(cost, policy.burst);
        const result = await limiter.check({}, { cost: units });
        if (result.allowed) continue;
        const waitMs = (await store.peek([{ policy, subject: '*', cost: units }]))[0]!.retryAfterMs;
        expect(waitMs).toBeGreaterThan(0);
        expect(result.retryAfterSeconds).toBe(Math.ceil(waitMs / 1000));
        const at = now;
        now = at + waitMs - 1;
        expect((await limiter.peek({}, { cost: units })).allowed).toBe(false);
        now = at + waitMs;
        expect((await limiter.peek({}, { cost: units })).allowed).toBe(true);
        now = at;
      }
    }),
    { numRuns: runs },
  );

  // 3. Buckets refill exactly: drained, then after d ms, min(burst, ⌊d·limit/window⌋) units fit.
  await fc.assert(
    fc.asyncProperty(
      arbitraryPolicy('p').filter((p) => p.algorithm === 'token-bucket' || p.algorithm === 'gcra'),
      fc.integer({ min: 0, max: 20_000 }),
      async (policy, d) => {
        let now = T0 + 11;
        const limiter = new RateLimiter({
          store: await open({ now: () => now }),
          policies: [policy],
          storeTimeoutMs: 5000,
          onStoreError: rethrow,
        });
        expect((await limiter.check({}, { cost: policy.burst })).allowed).toBe(true);
        now += d;
        let admitted = 0;
        while ((await limiter.check({})).allowed) admitted++;
        expect(admitted).toBe(Math.min(policy.burst, Math.floor((d * policy.limit) / policy.windowMs)));
      },
    ),
    { numRuns: runs },
  );

  // 4. A refund gives back exactly what was consumed at that instant.
  await fc.assert(
    fc.asyncProperty(
      arbitraryPolicy('p'),
      arbitraryRequests,
      fc.integer({ min: 1, max: 3 }),
      async (policy, requests, cost) => {
        let now = T0 + 5;
        const limiter = new RateLimiter({
          store: await open({ now: () => now }),
          policies: [policy],
          storeTimeoutMs: 5000,
          onStoreError: rethrow,
        });
        for (const { gapMs, cost: spent } of requests) {
          now += gapMs;
          await limiter.check({}, { cost: Math.min(spent, policy.burst) });
        }
        const units = Math.min(cost, policy.burst);
        const before = await limiter.peek({}, { cost: units });
        if (!(await limiter.check({}, { cost: units })).allowed) return;
        await limiter.refund({}, { cost: units });
        expect(await limiter.peek({}, { cost: units })).toEqual(before);
      },
    ),
    { numRuns: runs },
  );

  // 5. All-or-nothing: when any enforcing policy denies, no counter moves.
  await fc.assert(
    fc.asyncProperty(
      fc.tuple(arbitraryPolicy('a'), arbitraryPolicy('b'), arbitraryPolicy('c')),
      fc.boolean(),
      arbitraryRequests,
      async (policies, shadowC, requests) => {
        let now = T0 + 3;
        const set = [
          policies[0],
          policies[1],
          { ...policies[2], mode: shadowC ? ('shadow' as const) : ('enforce' as const) },
        ];
        const limiter = new RateLimiter({
          store: await open({ now: () => now }),
          policies: set,
          storeTimeoutMs: 5000,
          onStoreError: rethrow,
        });
        const admitted = new Map<string, { at: number; cost: number }[]>(set.map((p) => [p.name, []]));
        for (const { gapMs, cost } of requests) {
          now += gapMs;
          const units = Math.min(cost, ...set.map((p) => p.burst));
          const before = await limiter.peek({}, { cost: 1 });
          const result = await limiter.check({}, { cost: units });
          const enforcedDenial = result.policies.some((p) => !p.allowed && !p.shadow);
          expect(result.allowed).toBe(!enforcedDenial);
          if (!result.allowed) {
            expect(await limiter.peek({}, { cost: 1 })).toEqual(before);
          } else {
            for (const p of result.policies)
              if (p.allowed) admitted.get(p.name)!.push({ at: now, cost: units });
          }
        }
        for (const policy of set) assertPromiseKept(policy, admitted.get(policy.name)!);
      },
    ),
    { numRuns: runs },
  );
}
