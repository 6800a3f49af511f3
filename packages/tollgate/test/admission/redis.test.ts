import fc from 'fast-check';
import { Redis } from 'ioredis';
import { type Check, definePolicy } from 'tollgate';
import { RedisAdmissionStore, RedisIdempotencyStore, RedisRateLimitStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import type { Admission, AdmissionRequest } from '../../src/admission/store.ts';
import { completedToBytes } from '../../src/idempotency/stores/response-codec.ts';
import {
  arbitraryPolicy,
  arbitrarySteps,
  openAdmission,
  requestOf,
  type Step,
  snapshot,
  T0,
} from '../ratelimit/redis-admission-fixtures.ts';

/** What must match between two runs: everything but fences and times. */
function summary(admission: Admission) {
  const { allowed, verdicts, key } = admission;
  if (key === undefined) return { allowed, verdicts, key: 'none' };
  if (key.status !== 'found') return { allowed, verdicts, key: key.status };
  return { allowed, verdicts, key: `found ${key.record.state} ${key.record.fingerprint}` };
}

/** Each step's instant: a step sent together with the one before it shares its instant. */
function instants(steps: readonly Step[]): number[] {
  let now = T0;
  return steps.map((step, i) => {
    if (i === 0 || !step.together) now += step.gapMs;
    return now;
  });
}

describe('RedisAdmissionStore on one Redis node', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(() => redis.disconnect());

  const open = (clock?: () => number, kind: 'record' | 'cache' = 'record') =>
    openAdmission(redis, clock, kind);

  it('admits batched (same tick) and separate calls exactly as a sequential reference (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryPolicy('per-user', ['principal']),
        arbitraryPolicy('op', ['principal']),
        arbitrarySteps,
        async (perUser, operation, steps) => {
          const at = instants(steps);
          const sequential = async () => {
            let now = 0;
            const { store } = open(() => now);
            const out = [];
            for (const [i, step] of steps.entries()) {
              now = at[i]!;
              out.push(summary(await store.admit(requestOf(step, perUser, operation, 's'))));
            }
            return out;
          };
          const batched = async () => {
            let now = 0;
            const { store } = open(() => now);
            const out = [];
            for (let i = 0; i < steps.length; ) {
              let end = i + 1;
              while (end < steps.length && steps[end]!.together) end++;
              now = at[i]!;
              const group = steps
                .slice(i, end)
                .map((step) => store.admit(requestOf(step, perUser, operation, 's')));
              for (const admission of await Promise.all(group)) out.push(summary(admission));
              i = end;
            }
            return out;
          };
          expect(await batched()).toEqual(await sequential());
        },
      ),
      { numRuns: 25 },
    );
  });

  it('changes no key when it refuses, and no operation counter when the key is found (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryPolicy('per-user', ['principal']),
        arbitraryPolicy('op', ['principal']),
        arbitrarySteps,
        async (perUser, operation, steps) => {
          let now = 0;
          const { store, prefix } = open(() => now);
          const at = instants(steps);
          for (const [i, step] of steps.entries()) {
            now = at[i]!;
            const before = await snapshot(redis, prefix);
            const admission = await store.admit(requestOf(step, perUser, operation, 's'));
            const after = await snapshot(redis, prefix);
            if (!admission.allowed) {
              expect(after).toEqual(before);
              expect(admission.key?.status ?? 'found').toBe('found');
            }
            if (admission.key?.status === 'found') {
              const operationCounters = (s: Record<string, unknown>) =>
                Object.entries(s).filter(([key]) => key.includes('}op:'));
              expect(operationCounters(after)).toEqual(operationCounters(before));
            }
            if (admission.key?.status === 'claimed') {
              expect((await redis.hget(`${prefix}k:s${step.scope}`, 'fence'))!).toBe(
                String(admission.key.fence),
              );
            }
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it('writes exactly the record claim.lua writes, from every state a record can be in', async () => {
    const now = async () => {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    };
    const policy = definePolicy({ name: 'roomy', algorithm: 'fixed-window', limit: 1000, windowSeconds: 60 });
    const checks: Check[] = [{ policy, subject: '*', cost: 1 }];
    const states: Record<string, (t: number) => Record<string, string>> = {
      absent: () => ({}),
      'released, no checkpoint, other fingerprint': (t) =>
        rec('released', 'v1:other', t - 1, t - 10, t + 60_000),
      'released with a checkpoint, same fingerprint': (t) => ({
        ...rec('released', 'v1:same', t - 1, t - 10, t + 60_000),
        cpn: 'charged',
        cpd: '{"id":"ch_1"}',
      }),
      'released with a checkpoint, other fingerprint': (t) => ({
        ...rec('released', 'v1:other', t - 1, t - 10, t + 60_000),
        cpn: 'charged',
        cpd: '{"id":"ch_1"}',
      }),
      'in flight, lease lapsed, same fingerprint': (t) =>
        rec('in-flight', 'v1:same', t + 5_000_000, t - 10, t + 60_000),
      'in flight, lease lapsed, other fingerprint': (t) =>
        rec('in-flight', 'v1:other', t - 1, t - 10, t + 60_000),
      'in flight, lease alive': (t) => rec('in-flight', 'v1:same', t - 1, t + 30_000, t + 60_000),
      completed: (t) => ({
        ...rec('completed', 'v1:same', t - 1, t - 10, t + 60_000),
        resp: '{"s":201,"h":[],"o":false,"b":"e30="}',
      }),
      'expired, no lease': (t) => rec('completed', 'v1:other', t - 1, t - 10, t - 5),
    };
    for (const [name, build] of Object.entries(states)) {
      const { store, prefix } = open();
      const idempotency = new RedisIdempotencyStore({ redis, prefix: `${prefix}k:` });
      const fields = build(await now());
      if (Object.keys(fields).length > 0) {
        await redis.hset(`${prefix}k:ours`, fields);
        await redis.hset(`${prefix}k:theirs`, fields);
      }
      const claim = { fingerprint: 'v1:same', leaseMs: 30_000, ttlMs: 86_400_000 };
      const admission = await store.admit({
        requestChecks: checks,
        operationChecks: [],
        key: { scope: 'ours', ...claim },
      });
      const theirs = await idempotency.claim({ scope: 'theirs', ...claim });
      const ours = await redis.hgetall(`${prefix}k:ours`);
      const reference = await redis.hgetall(`${prefix}k:theirs`);
      expect(admission.allowed, name).toBe(true);
      if (theirs.claimed) {
        expect(admission.key?.status, name).toBe('claimed');
        if (admission.key?.status !== 'claimed') continue;
        expect(admission.key.checkpoint, name).toEqual(theirs.checkpoint);
        expect(Math.abs(admission.key.fence - theirs.fence), name).toBeLessThan(1000);
      } else {
        expect(admission.key, name).toEqual({
          status: 'found',
          record: { ...theirs.record, leaseRemainingMs: expect.any(Number), expiresInMs: expect.any(Number) },
        });
      }
      expect(Object.keys(ours).sort(), name).toEqual(Object.keys(reference).sort());
      for (const field of Object.keys(reference)) {
        if (['fence', 'lease', 'exp'].includes(field)) {
          expect(Math.abs(Number(ours[field]) - Number(reference[field])), `${name}: ${field}`).toBeLessThan(
            1000,
          );
        } else {
          expect(ours[field], `${name}: ${field}`).toBe(reference[field]);
        }
      }
      const ttl = [await redis.pttl(`${prefix}k:ours`), await redis.pttl(`${prefix}k:theirs`)];
      expect(Math.abs(ttl[0]! - ttl[1]!), name).toBeLessThan(1000);
    }
  });

  it('claims a new key for exactly one of 48 concurrent admissions over 6 connections', async () => {
    const prefix = keyPrefix();
    const policy = definePolicy({
      name: 'roomy',
      algorithm: 'token-bucket',
      limit: 1000,
      windowSeconds: 1,
      burst: 1000,
    });
    const clients = Array.from({ length: 6 }, () => new Redis(redisUrl()));
    try {
      for (let round = 0; round < 5; round++) {
        const request: AdmissionRequest = {
          requestChecks: [{ policy, subject: '*', cost: 1 }],
          operationChecks: [],
          key: { scope: `race${round}`, fingerprint: 'v1:same', leaseMs: 30_000, ttlMs: 60_000 },
        };
        const stores = clients.map(
          (client) =>
            new RedisAdmissionStore({
              rateLimits: new RedisRateLimitStore({ redis: client, prefix: `${prefix}rl:` }),
              keys: { kind: 'record', prefix: `${prefix}k:` },
            }),
        );
        const admissions = await Promise.all(
          stores.flatMap((store) => Array.from({ length: 8 }, () => store.admit(request))),
        );
        const statuses = admissions.map((admission) => admission.key?.status);
        expect(statuses.filter((status) => status === 'claimed')).toHaveLength(1);
        expect(statuses.filter((status) => status === 'found')).toHaveLength(47);
      }
    } finally {
      for (const client of clients) client.disconnect();
    }
  });

  it('reads a replay-cache entry: a hit pays request checks only, a miss or an undecodable entry pays all', async () => {
    const { store, prefix } = open(() => T0, 'cache');
    const perUser = definePolicy({
      name: 'per-user',
      algorithm: 'fixed-window',
      limit: 10,
      windowSeconds: 60,
      subject: ['principal'],
    });
    const operation = definePolicy({
      name: 'op',
      algorithm: 'fixed-window',
      limit: 10,
      windowSeconds: 60,
      subject: ['principal'],
    });
    const request = (scope: string): AdmissionRequest => ({
      requestChecks: [{ policy: perUser, subject: 'a', cost: 1 }],
      operationChecks: [{ policy: operation, subject: 'a', cost: 1 }],
      key: { scope, fingerprint: 'v1:x', leaseMs: 1000, ttlMs: 1000 },
    });
    const response = {
      status: 201,
      headers: [['content-type', 'application/json']] as const,
      body: Buffer.from('{"id":1}'),
      bodyOmitted: false,
    };
    await redis.set(`${prefix}k:hit`, completedToBytes('v1:x', response), 'PX', 60_000);
    await redis.set(`${prefix}k:garbage`, Buffer.from([0, 1]), 'PX', 60_000);
    const hit = await store.admit(request('hit'));
    expect(hit.allowed).toBe(true);
    expect(hit.key).toEqual({
      status: 'found',
      record: {
        state: 'completed',
        fingerprint: 'v1:x',
        leaseRemainingMs: 0,
        expiresInMs: expect.any(Number),
        response: { ...response, body: Buffer.from('{"id":1}') },
      },
    });
    expect(hit.verdicts.map((v) => v.remaining)).toEqual([9, 9]); // the operation check was only peeked
    const miss = await store.admit(request('miss'));
    expect(miss).toMatchObject({ allowed: true, key: { status: 'unknown' } });
    expect(miss.verdicts.map((v) => v.remaining)).toEqual([8, 9]);
    const garbage = await store.admit(request('garbage'));
    expect(garbage).toMatchObject({ allowed: true, key: { status: 'unknown' } });
    expect(garbage.verdicts.map((v) => v.remaining)).toEqual([7, 8]);
    expect(await redis.exists(`${prefix}k:miss`)).toBe(0);
  });
});

function rec(st: string, fp: string, fence: number, lease: number, exp: number): Record<string, string> {
  return { st, fp, fence: String(fence), lease: String(lease), exp: String(exp) };
}
