/**
 * MemoryAdmissionStore under concurrent callers: one new key is claimed exactly once, and a
 * replay pays for the request but never for the operation.
 */
import fc from 'fast-check';
import { type Check, definePolicy, MemoryAdmissionStore, MemoryRateLimitStore, type Policy } from 'tollgate';
import { MemoryIdempotencyStore } from 'tollgate/idempotency';
import { describe, expect, it } from 'vitest';
import type { AdmissionRequest, KeyStep } from '../../src/admission/store.ts';

const T0 = 1_800_000_000_000;
const response = { status: 200, headers: [], body: new Uint8Array([1, 2, 3]), bodyOmitted: false };

/** Lets other callers run first: a few microtask and macrotask turns. */
async function yieldTimes(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (i % 2) await new Promise((resolve) => setImmediate(resolve));
    else await Promise.resolve();
  }
}

function fixture(now: () => number) {
  const rateLimits = new MemoryRateLimitStore({ clock: { now } });
  const keys = new MemoryIdempotencyStore({ clock: { now } });
  return { rateLimits, keys, store: new MemoryAdmissionStore({ rateLimits, keys }) };
}

const check = (policy: Policy): Check => ({ policy, subject: '*', cost: 1 });

describe('MemoryAdmissionStore under concurrency', () => {
  it('claims a new key exactly once among concurrent admissions, and spends the operation once (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 48 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.record({ turns: fc.nat(6), fingerprint: fc.constantFrom('f1', 'f2') }), {
          minLength: 48,
          maxLength: 48,
        }),
        fc.boolean(),
        async (callers, requestLimit, operationLimit, plans, completeEarly) => {
          const now = T0;
          const { rateLimits, keys, store } = fixture(() => now);
          const perRequest = definePolicy({
            name: 'per-request',
            algorithm: 'fixed-window',
            limit: requestLimit,
            windowSeconds: 3600,
          });
          const payments = definePolicy({
            name: 'payments',
            algorithm: 'token-bucket',
            limit: operationLimit,
            windowSeconds: 3600,
          });
          const step = (fingerprint: string): KeyStep => ({
            scope: 'k',
            fingerprint,
            leaseMs: 30_000,
            ttlMs: 60_000,
          });
          const request = (fingerprint: string): AdmissionRequest => ({
            requestChecks: [check(perRequest)],
            operationChecks: [check(payments)],
            key: step(fingerprint),
          });
          const admissions = await Promise.all(
            plans.slice(0, callers).map(async ({ turns, fingerprint }) => {
              await yieldTimes(turns);
              const admission = await store.admit(request(fingerprint));
              if (admission.key?.status === 'claimed' && completeEarly) {
                await yieldTimes(turns);
                await keys.complete({
                  scope: 'k',
                  fence: admission.key.fence,
                  fingerprint,
                  response,
                  ttlMs: 60_000,
                });
              }
              return admission;
            }),
          );
          const claimed = admissions.filter((a) => a.key?.status === 'claimed');
          expect(claimed).toHaveLength(1);
          expect(claimed[0]!.allowed).toBe(true);
          for (const other of admissions.filter((a) => a.key?.status !== 'claimed')) {
            expect(other.key?.status).toBe('found');
          }
          // Every caller paid for its request while quota lasted; only the claimant paid the operation.
          expect(admissions.filter((a) => a.allowed)).toHaveLength(Math.min(callers, requestLimit));
          const [left] = rateLimits.decideNow([check(payments)], 'peek');
          // A peek's `remaining` counts the peeked request as admitted.
          expect(left!.remaining + (left!.allowed ? 1 : 0)).toBe(operationLimit - 1);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never spends operation checks on a replay, a mismatch or a conflict (fast-check)', async () => {
    const algorithm = fc.constantFrom('token-bucket', 'gcra', 'fixed-window', 'sliding-window' as const);
    await fc.assert(
      fc.asyncProperty(
        algorithm,
        algorithm,
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.record({ fingerprint: fc.constantFrom('f1', 'f2'), gapMs: fc.nat(1500) }), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.boolean(),
        async (requestAlgorithm, operationAlgorithm, limit, replays, complete) => {
          let now = T0 + 3;
          const { rateLimits, keys, store } = fixture(() => now);
          const perUser = definePolicy({
            name: 'per-user',
            algorithm: requestAlgorithm,
            limit,
            windowSeconds: 1,
          });
          const payments = definePolicy({
            name: 'payments',
            algorithm: operationAlgorithm,
            limit,
            windowSeconds: 1,
          });
          const step = (fingerprint: string): KeyStep => ({
            scope: 'k',
            fingerprint,
            leaseMs: 3_600_000,
            ttlMs: 3_600_000,
          });
          const first = await store.admit({
            requestChecks: [check(perUser)],
            operationChecks: [check(payments)],
            key: step('f1'),
          });
          expect(first.key?.status).toBe('claimed');
          if (complete && first.key?.status === 'claimed') {
            await keys.complete({
              scope: 'k',
              fence: first.key.fence,
              fingerprint: 'f1',
              response,
              ttlMs: 3_600_000,
            });
          }
          for (const { fingerprint, gapMs } of replays) {
            now += gapMs;
            const operationBefore = rateLimits.decideNow([check(payments)], 'peek');
            const requestBefore = rateLimits.decideNow([check(perUser)], 'peek');
            const replay = await store.admit({
              requestChecks: [check(perUser)],
              operationChecks: [check(payments)],
              key: step(fingerprint),
            });
            expect(replay.key).toMatchObject({
              status: 'found',
              record: { state: complete ? 'completed' : 'in-flight', fingerprint: 'f1' },
            });
            // The operation is only peeked: its verdict is the peek's, and its counter is untouched.
            expect(replay.verdicts[1]).toEqual(operationBefore[0]);
            expect(rateLimits.decideNow([check(payments)], 'peek')).toEqual(operationBefore);
            // The request is paid for exactly when the request policy admits it.
            expect(replay.allowed).toBe(requestBefore[0]!.allowed);
            const requestAfter = rateLimits.decideNow([check(perUser)], 'peek');
            if (replay.allowed) expect(requestAfter).not.toEqual(requestBefore);
            else expect(requestAfter).toEqual(requestBefore);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('answers `unknown` for every concurrent new key when the keys can only look up (a replay cache)', async () => {
    const idempotency = new MemoryIdempotencyStore({ clock: { now: () => T0 } });
    const rateLimits = new MemoryRateLimitStore({ clock: { now: () => T0 } });
    const store = new MemoryAdmissionStore({ rateLimits, keys: { find: (step) => idempotency.find(step) } });
    const payments = definePolicy({
      name: 'payments',
      algorithm: 'fixed-window',
      limit: 3,
      windowSeconds: 60,
    });
    const key = { scope: 'k', fingerprint: 'f', leaseMs: 1000, ttlMs: 1000 };
    const admissions = await Promise.all(
      Array.from({ length: 5 }, () =>
        store.admit({ requestChecks: [], operationChecks: [check(payments)], key }),
      ),
    );
    // Nothing was claimed here, so each may run until the truth claims: each pays the operation.
    expect(admissions.map((a) => [a.allowed, a.key?.status])).toEqual([
      [true, 'unknown'],
      [true, 'unknown'],
      [true, 'unknown'],
      [false, undefined],
      [false, undefined],
    ]);
    const claim = await idempotency.claim(key);
    expect(claim.claimed).toBe(true);
    const after = await store.admit({ requestChecks: [], operationChecks: [check(payments)], key });
    expect(after).toMatchObject({ allowed: true, key: { status: 'found', record: { state: 'in-flight' } } });
  });
});
