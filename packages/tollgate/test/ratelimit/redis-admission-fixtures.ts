/**
 * What the Redis admission tests share: random policies and admissions, and a snapshot of
 * every key under a prefix read back from Redis.
 */
import fc from 'fast-check';
import type { Cluster, Redis } from 'ioredis';
import { type AlgorithmName, algorithmNames, type Check, definePolicy, type Policy } from 'tollgate';
import { RedisAdmissionStore, RedisRateLimitStore } from 'tollgate/redis';
import { keyPrefix } from '../../../../testkit/index.ts';
import type { AdmissionRequest } from '../../src/admission/store.ts';

export const T0 = 1_800_000_000_000;

export const arbitraryPolicy = (
  name: string,
  subject: readonly ('principal' | 'ip')[],
): fc.Arbitrary<Policy> =>
  fc
    .record({
      algorithm: fc.constantFrom<AlgorithmName>(...algorithmNames),
      limit: fc.integer({ min: 1, max: 5 }),
      windowMs: fc.constantFrom(1000, 7000, 60_000),
      shadow: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
    })
    .map(({ algorithm, limit, windowMs, shadow }) =>
      definePolicy({
        name,
        algorithm,
        limit,
        windowSeconds: windowMs / 1000,
        subject: [...subject],
        mode: shadow ? 'shadow' : 'enforce',
      }),
    );

/** One admission of a test: which principal and key it carries, and when it arrives. */
export interface Step {
  readonly principal: number;
  /** A scope index, or null for no key. */
  readonly scope: number | null;
  readonly fingerprint: number;
  readonly gapMs: number;
  /** True: sent in the same tick as the step before it. */
  readonly together: boolean;
}

export const arbitrarySteps = fc.array(
  fc.record({
    principal: fc.integer({ min: 0, max: 2 }),
    scope: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
    fingerprint: fc.integer({ min: 0, max: 1 }),
    gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 })),
    together: fc.boolean(),
  }),
  { minLength: 1, maxLength: 30 },
);

/** The admission of a step: `perUser` on every request, `operation` only on those that run. */
export function requestOf(
  step: Step,
  perUser: Policy,
  operation: Policy,
  scopePrefix: string,
): AdmissionRequest {
  const subject = `acct_${step.principal}`;
  const requestChecks: Check[] = [{ policy: perUser, subject, cost: 1 }];
  const operationChecks: Check[] = [{ policy: operation, subject, cost: 1 }];
  if (step.scope === null) return { requestChecks, operationChecks };
  return {
    requestChecks,
    operationChecks,
    key: {
      scope: `${scopePrefix}${step.scope}`,
      fingerprint: `v1:fp${step.fingerprint}`,
      leaseMs: 600_000,
      ttlMs: 600_000,
    },
  };
}

/** Every key under `prefix` with its value (strings) or fields (hashes), read from every master. */
export async function snapshot(redis: Redis | Cluster, prefix: string): Promise<Record<string, unknown>> {
  const nodes =
    'nodes' in redis && typeof redis.nodes === 'function' ? redis.nodes('master') : [redis as Redis];
  const entries: [string, unknown][] = [];
  for (const node of nodes) {
    for (const key of await node.keys(`${prefix}*`)) {
      const type = await node.type(key);
      entries.push([
        key,
        type === 'hash' ? await node.hgetall(key) : (await node.getBuffer(key))?.toString('hex'),
      ]);
    }
  }
  // KEYS answers in hash-table order, which changes as keys come and go: sorted, two snapshots
  // of the same keys list them alike, so a comparison of their entries sees only what changed.
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}

/**
 * A Redis admission over `redis` under a fresh key prefix: counters under `rl:`, keys under
 * `k:` (records or a replay cache), time from `clock` when given.
 */
export function openAdmission(
  redis: Redis | Cluster,
  clock?: () => number,
  kind: 'record' | 'cache' = 'record',
) {
  const prefix = keyPrefix();
  const rateLimits = new RedisRateLimitStore({
    redis,
    prefix: `${prefix}rl:`,
    ...(clock ? { unsafeTestClock: { now: clock } } : {}),
  });
  return {
    prefix,
    rateLimits,
    store: new RedisAdmissionStore({ rateLimits, keys: { kind, prefix: `${prefix}k:` } }),
  };
}
