/**
 * MemoryAdmissionStore against a plain sequential model of what `Admission`'s TSDoc and the
 * claim rules of `IdempotencyStore` promise: counters as a Map of algorithm states (no slots,
 * no clock hand, no key cap), key records as a Map of plain objects.
 */
import fc from 'fast-check';
import {
  type Check,
  definePolicy,
  type InProcessKeys,
  MemoryAdmissionStore,
  MemoryRateLimitStore,
  type Policy,
  type Verdict,
} from 'tollgate';
import { MemoryIdempotencyStore } from 'tollgate/idempotency';
import { describe, expect, it } from 'vitest';
import type { Admission, AdmissionRequest, KeyOutcome, KeyStep } from '../../src/admission/store.ts';
import { algorithms } from '../../src/ratelimit/algorithms/index.ts';

const T0 = 1_800_000_000_000;

// ── the model ────────────────────────────────────────────────────────────────────────────

interface ModelRecord {
  state: 'in-flight' | 'released' | 'completed';
  fingerprint: string;
  fence: number;
  leaseUntil: number;
  expiresAt: number;
  checkpointed: boolean;
}

class Model {
  readonly counters = new Map<string, Float64Array>();
  readonly records = new Map<string, ModelRecord>();
  constructor(
    readonly clock: { now: number },
    readonly keys: KeysMode,
  ) {}

  decide(checks: readonly Check[], consume: boolean): Verdict[] {
    const next = checks.map(() => new Float64Array(4));
    const verdicts = checks.map(({ policy, subject, cost }, i) =>
      algorithms[policy.algorithm].evaluate(
        this.counters.get(`${policy.name}/${subject}`) ?? new Float64Array(4),
        0,
        policy,
        cost,
        this.clock.now,
        next[i]!,
        0,
      ),
    );
    const blocked = verdicts.some((v, i) => !v.allowed && checks[i]!.policy.mode === 'enforce');
    if (consume && !blocked) {
      checks.forEach(({ policy, subject }, i) => {
        if (verdicts[i]!.allowed) this.counters.set(`${policy.name}/${subject}`, next[i]!);
      });
    }
    return verdicts;
  }

  /** The claim rules, written out from `IdempotencyStore.claim`'s TSDoc. */
  claimable(step: KeyStep): 'fresh' | 'takeover' | 'held' {
    const now = this.clock.now;
    const r = this.records.get(step.scope);
    const leased = r !== undefined && r.state === 'in-flight' && r.leaseUntil > now;
    if (r === undefined || (r.expiresAt <= now && !leased)) return 'fresh';
    if (r.state === 'released')
      return !r.checkpointed || r.fingerprint === step.fingerprint ? 'takeover' : 'held';
    if (r.state === 'in-flight' && !leased && r.fingerprint === step.fingerprint) return 'takeover';
    return 'held';
  }

  claim(step: KeyStep): KeyOutcome {
    const now = this.clock.now;
    const how = this.claimable(step);
    if (how === 'held') return this.found(step.scope);
    const previous = this.records.get(step.scope);
    const fence = Math.max((previous?.fence ?? 0) + 1, now);
    const checkpointed = how === 'takeover' && previous!.checkpointed;
    const leaseUntil = now + step.leaseMs;
    const expiresAt =
      how === 'fresh' ? Math.max(now + step.ttlMs, leaseUntil) : Math.max(previous!.expiresAt, leaseUntil);
    this.records.set(step.scope, {
      state: 'in-flight',
      fingerprint: step.fingerprint,
      fence,
      leaseUntil,
      expiresAt,
      checkpointed,
    });
    return { status: 'claimed', fence, checkpoint: checkpointed ? { name: 'cp', data: null } : null };
  }

  found(scope: string): KeyOutcome {
    const r = this.records.get(scope)!;
    const now = this.clock.now;
    return {
      status: 'found',
      record: {
        state: r.state,
        fingerprint: r.fingerprint,
        leaseRemainingMs: Math.max(0, r.leaseUntil - now),
        expiresInMs: r.expiresAt - now,
        response: r.state === 'completed' ? response : null,
      },
    };
  }

  admit({ requestChecks, operationChecks, key }: AdmissionRequest): Admission {
    if (key !== undefined && this.keys !== 'none' && this.claimable(key) === 'held') {
      const spent = this.decide(requestChecks, true);
      const peeked = this.decide(operationChecks, false);
      const allowed = spent.every((v, i) => v.allowed || requestChecks[i]!.policy.mode === 'shadow');
      return { allowed, verdicts: [...spent, ...peeked], key: this.found(key.scope) };
    }
    const checks = [...requestChecks, ...operationChecks];
    const verdicts = this.decide(checks, true);
    const allowed = verdicts.every((v, i) => v.allowed || checks[i]!.policy.mode === 'shadow');
    if (key === undefined || !allowed) return { allowed, verdicts };
    return { allowed, verdicts, key: this.keys === 'claiming' ? this.claim(key) : { status: 'unknown' } };
  }

  /** Fenced writes: refused unless in flight under exactly this fence. */
  write(scope: string, fence: number, change: (r: ModelRecord) => void): boolean {
    const r = this.records.get(scope);
    if (r?.state !== 'in-flight' || r.fence !== fence) return false;
    change(r);
    return true;
  }
}

// ── the commands ─────────────────────────────────────────────────────────────────────────

type KeysMode = 'claiming' | 'find-only' | 'none';

const response = {
  status: 201,
  headers: [['content-type', 'application/json']] as const,
  body: new Uint8Array([123, 125]),
  bodyOmitted: false,
};

const arbitraryPolicy = (name: string): fc.Arbitrary<Policy> =>
  fc
    .record({
      algorithm: fc.constantFrom('token-bucket', 'gcra', 'fixed-window', 'sliding-window' as const),
      limit: fc.integer({ min: 1, max: 6 }),
      windowMs: fc.constantFrom(1000, 1500, 7000),
      extraBurst: fc.integer({ min: 0, max: 3 }),
      shadow: fc.boolean(),
      perPrincipal: fc.boolean(),
    })
    .map(({ algorithm, limit, windowMs, extraBurst, shadow, perPrincipal }) =>
      definePolicy({
        name,
        algorithm,
        limit,
        windowSeconds: windowMs / 1000,
        ...(algorithm === 'token-bucket' || algorithm === 'gcra' ? { burst: limit + extraBurst } : {}),
        mode: shadow ? 'shadow' : 'enforce',
        subject: perPrincipal ? ['principal'] : [],
      }),
    );

/** Policies `r*` count every request; `o*` count only requests that run the operation. */
const arbitraryPolicies = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
  .chain(([requests, operations]) =>
    fc.tuple(
      fc.tuple(...Array.from({ length: requests }, (_, i) => arbitraryPolicy(`r${i}`))),
      fc.tuple(...Array.from({ length: operations }, (_, i) => arbitraryPolicy(`o${i}`))),
    ),
  );

const arbitraryStep = fc.record({
  scope: fc.constantFrom('k1', 'k2', 'k3'),
  fingerprint: fc.constantFrom('f1', 'f2'),
  leaseMs: fc.constantFrom(300, 5000),
  ttlMs: fc.constantFrom(800, 60_000),
});

const arbitraryCommand = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('admit' as const),
      principal: fc.constantFrom('alice', 'bob'),
      cost: fc.integer({ min: 1, max: 3 }),
      key: fc.option(arbitraryStep, { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('elapse' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('complete' as const, 'release' as const, 'checkpoint' as const),
      pick: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('claim' as const), key: arbitraryStep }) },
);

type Command = typeof arbitraryCommand extends fc.Arbitrary<infer C> ? C : never;

function checksOf(policies: readonly Policy[], principal: string, cost: number): Check[] {
  return policies.map((policy) => ({
    policy,
    subject: policy.subject.length === 0 ? '*' : principal,
    cost: Math.min(cost, policy.burst),
  }));
}

/**
 * Everything an admission could change, read without changing it. (Not `size`: any call may
 * drop a key that is idle, its quota fully restored, which no answer can tell apart.)
 */
function observe(
  rateLimits: MemoryRateLimitStore,
  keys: MemoryIdempotencyStore,
  policies: readonly Policy[],
) {
  const every = ['alice', 'bob'].flatMap((principal) => checksOf(policies, principal, 1));
  return {
    counters: rateLimits.decideNow(every, 'peek'),
    keys: ['k1', 'k2', 'k3'].flatMap((scope) =>
      ['f1', 'f2'].map((fingerprint) => keys.find({ scope, fingerprint, leaseMs: 1, ttlMs: 1 })),
    ),
  };
}

/** Runs the commands on the store and on the model, comparing every answer. */
async function run(
  keysMode: KeysMode,
  [requestPolicies, operationPolicies]: [Policy[], Policy[]],
  commands: readonly Command[],
): Promise<void> {
  const clock = { now: T0 + 17 };
  const rateLimits = new MemoryRateLimitStore({ clock: { now: () => clock.now } });
  const idempotency = new MemoryIdempotencyStore({ clock: { now: () => clock.now } });
  const keys: InProcessKeys | undefined =
    keysMode === 'claiming'
      ? idempotency
      : keysMode === 'find-only'
        ? { find: (s) => idempotency.find(s) }
        : undefined;
  const store = new MemoryAdmissionStore({ rateLimits, ...(keys ? { keys } : {}) });
  const model = new Model(clock, keysMode);
  const fences: { scope: string; fence: number; fingerprint: string }[] = [];
  const policies = [...requestPolicies, ...operationPolicies];

  for (const command of commands) {
    switch (command.kind) {
      case 'elapse':
        clock.now += command.ms;
        break;
      case 'admit': {
        const request: AdmissionRequest = {
          requestChecks: checksOf(requestPolicies, command.principal, command.cost),
          operationChecks: checksOf(operationPolicies, command.principal, command.cost),
          ...(command.key ? { key: command.key } : {}),
        };
        const before = observe(rateLimits, idempotency, policies);
        const actual = await store.admit(request);
        expect(actual).toEqual(model.admit(request));
        if (!actual.allowed) {
          // A refused admission changed nothing: no counter, no key.
          expect(observe(rateLimits, idempotency, policies)).toEqual(before);
        }
        if (actual.key?.status === 'claimed') fences.push({ ...command.key!, fence: actual.key.fence });
        break;
      }
      case 'claim': {
        // The truth behind a replay cache claims after the admission (tiered, PGlite).
        const actual = await idempotency.claim(command.key);
        const expected = model.claim(command.key);
        expect(actual.claimed).toBe(expected.status === 'claimed');
        if (actual.claimed && expected.status === 'claimed') {
          expect(actual.fence).toBe(expected.fence);
          fences.push({ ...command.key, fence: actual.fence });
        }
        break;
      }
      default: {
        const held = fences[command.pick % Math.max(1, fences.length)];
        if (held === undefined) break;
        const { scope, fence, fingerprint } = held;
        const now = clock.now;
        if (command.kind === 'complete') {
          const ttlMs = 60_000;
          expect(await idempotency.complete({ scope, fence, fingerprint, response, ttlMs })).toEqual(
            model.write(scope, fence, (r) => {
              Object.assign(r, { state: 'completed', checkpointed: false, expiresAt: now + ttlMs });
            })
              ? { ok: true }
              : { ok: false, reason: 'stale-fence' },
          );
        } else if (command.kind === 'release') {
          expect((await idempotency.release(scope, fence)).ok).toBe(
            model.write(scope, fence, (r) => {
              r.state = 'released';
            }),
          );
        } else {
          expect((await idempotency.checkpoint(scope, fence, { name: 'cp', data: null })).ok).toBe(
            model.write(scope, fence, (r) => {
              r.checkpointed = true;
            }),
          );
        }
      }
    }
  }
}

describe('MemoryAdmissionStore', () => {
  for (const keysMode of ['claiming', 'find-only', 'none'] as const) {
    it(`answers as the sequential model, and a refusal changes nothing (keys: ${keysMode}; fast-check)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          arbitraryPolicies,
          fc.array(arbitraryCommand, { minLength: 1, maxLength: 80, size: 'medium' }),
          (p, c) => run(keysMode, p, c),
        ),
        { numRuns: 150 },
      );
    });
  }
});
