import fc from 'fast-check';
import { Cluster, Redis } from 'ioredis';
import { type Check, definePolicy } from 'tollgate';
import { RedisAdmissionStore, RedisRateLimitStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPrefix, redisClusterNodes, redisUrl } from '../../../../testkit/index.ts';
import type { Admission, AdmissionRequest } from '../../src/admission/store.ts';
import { completedToBytes } from '../../src/idempotency/stores/response-codec.ts';
import {
  arbitraryPolicy,
  arbitrarySteps,
  openAdmission,
  requestOf,
  T0,
} from '../ratelimit/redis-admission-fixtures.ts';
import { assertPromiseKept } from '../ratelimit/store-properties.ts';

function summary({ allowed, verdicts, key }: Admission) {
  if (key === undefined) return { allowed, verdicts, key: 'none' };
  if (key.status !== 'found') return { allowed, verdicts, key: key.status };
  return { allowed, verdicts, key: `found ${key.record.state} ${key.record.fingerprint}` };
}

describe('RedisAdmissionStore on a 3-master Redis Cluster', () => {
  let cluster: Cluster;
  let single: Redis;
  beforeAll(async () => {
    cluster = new Cluster(redisClusterNodes());
    single = new Redis(redisUrl());
    await cluster.ping();
  });
  afterAll(() => {
    cluster.disconnect();
    single.disconnect();
  });

  const open = openAdmission;

  it('decides a sequence of admissions across slots exactly as one node does (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryPolicy('per-user', ['principal']),
        arbitraryPolicy('op', ['principal']),
        arbitraryPolicy('global', []),
        arbitrarySteps,
        async (perUser, operation, global, steps) => {
          const run = async (redis: Redis | Cluster) => {
            let now = T0;
            const { store } = open(redis, () => now);
            const out = [];
            for (const step of steps) {
              now += step.gapMs;
              const request = requestOf(step, perUser, operation, 's');
              const withGlobal: AdmissionRequest = {
                ...request,
                operationChecks: [...request.operationChecks, { policy: global, subject: '*', cost: 1 }],
              };
              out.push(summary(await store.admit(withGlobal)));
            }
            return out;
          };
          expect(await run(cluster)).toEqual(await run(single));
        },
      ),
      { numRuns: 15 },
    );
  });

  it('keeps every promise when admissions of one tick race across slots: limits, one claim per key, none on refusal (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryPolicy('per-user', ['principal']),
        arbitraryPolicy('op', ['principal']),
        arbitraryPolicy('global', []),
        arbitrarySteps,
        async (perUser, operation, global, steps) => {
          let now = T0;
          const { store } = open(cluster, () => now);
          const decided: { at: number; admission: Admission; scope: number | null; principal: number }[] = [];
          for (let i = 0; i < steps.length; ) {
            let end = i + 1;
            while (end < steps.length && steps[end]!.together) end++;
            now += steps[i]!.gapMs;
            const at = now;
            const group = steps.slice(i, end).map(async (step) => {
              const request = requestOf(step, perUser, operation, 's');
              const admission = await store.admit({
                ...request,
                operationChecks: [...request.operationChecks, { policy: global, subject: '*', cost: 1 }],
              });
              return { at, admission, scope: step.scope, principal: step.principal };
            });
            for (const result of await Promise.all(group)) decided.push(result);
            i = end;
          }
          const claims = decided.filter((d) => d.admission.key?.status === 'claimed').map((d) => d.scope);
          expect(new Set(claims).size).toBe(claims.length);
          for (const { admission } of decided) {
            if (!admission.allowed) expect(admission.key?.status ?? 'found').toBe('found');
          }
          const paid = decided.filter((d) => d.admission.allowed);
          const ran = paid.filter((d) => d.admission.key?.status !== 'found');
          if (global.mode === 'enforce')
            assertPromiseKept(
              global,
              ran.map(({ at }) => ({ at, cost: 1 })),
            );
          for (let p = 0; p < 3; p++) {
            const mine = (d: (typeof decided)[number]) => d.principal === p;
            if (perUser.mode === 'enforce')
              assertPromiseKept(
                perUser,
                paid.filter(mine).map(({ at }) => ({ at, cost: 1 })),
              );
            if (operation.mode === 'enforce')
              assertPromiseKept(
                operation,
                ran.filter(mine).map(({ at }) => ({ at, cost: 1 })),
              );
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('claims a new key for exactly one of 40 concurrent admissions; the others pay no operation quota', async () => {
    const prefix = keyPrefix();
    const perUser = definePolicy({
      name: 'per-user',
      algorithm: 'fixed-window',
      limit: 1000,
      windowSeconds: 3600,
      subject: ['principal'],
    });
    const operation = definePolicy({
      name: 'op',
      algorithm: 'fixed-window',
      limit: 1000,
      windowSeconds: 3600,
    });
    const clients = Array.from({ length: 4 }, () => new Cluster(redisClusterNodes()));
    try {
      const stores = clients.map(
        (client) =>
          new RedisAdmissionStore({
            rateLimits: new RedisRateLimitStore({ redis: client, prefix: `${prefix}rl:` }),
            keys: { kind: 'record', prefix: `${prefix}k:` },
          }),
      );
      const request = (i: number): AdmissionRequest => ({
        requestChecks: [{ policy: perUser, subject: `acct_${i % 5}`, cost: 1 }],
        operationChecks: [{ policy: operation, subject: '*', cost: 1 }],
        key: { scope: 'one-key', fingerprint: 'v1:same', leaseMs: 30_000, ttlMs: 60_000 },
      });
      const admissions = await Promise.all(
        Array.from({ length: 40 }, (_, i) => stores[i % stores.length]!.admit(request(i))),
      );
      const statuses = admissions.map((admission) => admission.key?.status);
      expect(statuses.filter((status) => status === 'claimed')).toHaveLength(1);
      expect(statuses.filter((status) => status === 'found')).toHaveLength(39);
      const [spent] = await new RedisRateLimitStore({ redis: cluster, prefix: `${prefix}rl:` }).peek([
        { policy: operation, subject: '*', cost: 1 },
      ]);
      expect(spent!.remaining).toBe(1000 - 1 - 1); // one consumed; a peek's `remaining` assumes one more
    } finally {
      for (const client of clients) client.disconnect();
    }
  });

  it('claims nothing and leaves every counter as it was when a policy in another slot refuses', async () => {
    const { store, rateLimits, prefix } = open(cluster, () => T0);
    const global = definePolicy({ name: 'global', algorithm: 'fixed-window', limit: 1, windowSeconds: 3600 });
    const perUser = definePolicy({
      name: 'per-user',
      algorithm: 'fixed-window',
      limit: 10,
      windowSeconds: 3600,
      subject: ['principal'],
    });
    const checks = (principal: string): Check[] => [{ policy: perUser, subject: principal, cost: 1 }];
    const request = (principal: string, scope: string): AdmissionRequest => ({
      requestChecks: checks(principal),
      operationChecks: [{ policy: global, subject: '*', cost: 1 }],
      key: { scope, fingerprint: 'v1:x', leaseMs: 30_000, ttlMs: 60_000 },
    });
    expect((await store.admit(request('a', 'first'))).key?.status).toBe('claimed');
    const before = await rateLimits.peek(checks('b'));
    const refused = await store.admit(request('b', 'second'));
    expect(refused.allowed).toBe(false);
    expect(refused.key).toBeUndefined();
    expect(await rateLimits.peek(checks('b'))).toEqual(before);
    const masters = cluster.nodes('master');
    const records = (await Promise.all(masters.map((node) => node.keys(`${prefix}k:*`)))).flat();
    expect(records).toEqual([`${prefix}k:first`]);
  });

  it('reads a replay-cache entry in its own slot: a hit pays request checks only, a miss pays all', async () => {
    const prefix = keyPrefix();
    const rateLimits = new RedisRateLimitStore({
      redis: cluster,
      prefix: `${prefix}rl:`,
      unsafeTestClock: { now: () => T0 },
    });
    const store = new RedisAdmissionStore({ rateLimits, keys: { kind: 'cache', prefix: `${prefix}c:` } });
    const perUser = definePolicy({
      name: 'per-user',
      algorithm: 'fixed-window',
      limit: 10,
      windowSeconds: 60,
      subject: ['principal'],
    });
    const global = definePolicy({ name: 'global', algorithm: 'fixed-window', limit: 10, windowSeconds: 60 });
    const request = (scope: string): AdmissionRequest => ({
      requestChecks: [{ policy: perUser, subject: 'a', cost: 1 }],
      operationChecks: [{ policy: global, subject: '*', cost: 1 }],
      key: { scope, fingerprint: 'v1:x', leaseMs: 1000, ttlMs: 1000 },
    });
    const response = { status: 200, headers: [] as const, body: Buffer.from('ok'), bodyOmitted: false };
    await cluster.set(`${prefix}c:hit`, completedToBytes('v1:x', response), 'PX', 60_000);
    const hit = await store.admit(request('hit'));
    expect(hit).toMatchObject({
      allowed: true,
      key: { status: 'found', record: { state: 'completed', fingerprint: 'v1:x' } },
    });
    expect(hit.verdicts.map((v) => v.remaining)).toEqual([9, 9]);
    const miss = await store.admit(request('miss'));
    expect(miss).toMatchObject({ allowed: true, key: { status: 'unknown' } });
    expect(miss.verdicts.map((v) => v.remaining)).toEqual([8, 9]);
    expect(await cluster.exists(`${prefix}c:miss`)).toBe(0);
  });
});
