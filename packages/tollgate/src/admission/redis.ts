import type { Checkpoint, JsonValue, RecordState, RecordView } from '../idempotency/record.ts';
import { completedFromBytes, responseFromText } from '../idempotency/stores/response-codec.ts';
import type { Verdict } from '../ratelimit/algorithm.ts';
import { type Check, isBlocked } from '../ratelimit/store.ts';
import type { RedisRateLimitStore } from '../ratelimit/stores/redis.ts';
import {
  type AdmissionDecision,
  type AdmissionReply,
  KeyStepKind,
  type KeyStepReply,
} from '../ratelimit/stores/redis-script.ts';
import type { Admission, AdmissionRequest, AdmissionStore, KeyOutcome, KeyStep } from './store.ts';

/** Where the idempotency keys that {@link RedisAdmissionStore} looks up live. */
export type RedisAdmissionKeys =
  /** `RedisIdempotencyStore` records (hashes at `prefix + scope`): found, or claimed in the same script. */
  | { readonly kind: 'record'; readonly prefix: string }
  /** `TieredIdempotencyStore` replay-cache entries (strings at `prefix + scope`): only read. */
  | { readonly kind: 'cache'; readonly prefix: string };

/** Options of {@link RedisAdmissionStore}. */
export interface RedisAdmissionStoreOptions {
  /** The counters; its Redis client is the one the keys are read from. */
  readonly rateLimits: RedisRateLimitStore;
  /**
   * The idempotency keys to decide with the limits. Without them a key step is `unknown` and
   * an admission is a plain all-or-nothing consume.
   */
  readonly keys?: RedisAdmissionKeys;
}

/**
 * Admissions on Redis: on a single node, each is one step of the rate-limit script, which
 * decides every check all-or-nothing and, in the same atomic step, finds or claims the key
 * (exactly as `claim.lua` would) or reads its replay-cache entry. Admissions of one tick
 * share a script call, decided in order, each seeing the writes of those before it.
 *
 * On a Cluster the checks and the key may live in different slots: the key is looked up
 * first; a found key pays its request checks (decided across slots in two phases, see
 * `scripting/cross-slot.ts`); otherwise every check is consumed across slots, and only when all
 * admitted is the key claimed. A claim that loses a race to a concurrent claimant (the key is
 * found after all) gives back what is left of the operation checks' units.
 *
 * @example
 * const rateLimits = new RedisRateLimitStore({ redis });
 * const admissions = new RedisAdmissionStore({ rateLimits, keys: { kind: 'record', prefix: 'tollgate:idem:' } });
 */
export class RedisAdmissionStore implements AdmissionStore {
  readonly inProcess = false;
  readonly claimsKeys: boolean;

  constructor(private readonly options: RedisAdmissionStoreOptions) {
    this.claimsKeys = options.keys?.kind === 'record';
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    const { requestChecks, operationChecks, key } = request;
    if (this.options.rateLimits.cluster) return this.admitAcrossSlots(request);
    const kind = this.options.keys?.kind === 'cache' ? KeyStepKind.cache : recordKind(key);
    const reply = await this.options.rateLimits.admit(this.decision(request, kind));
    if (key === undefined) return plain(requestChecks, operationChecks, reply.verdicts);
    const outcome =
      this.options.keys === undefined ? unknownKey : keyOutcome(reply.key!, kind === KeyStepKind.cache);
    if (outcome === undefined) return this.undecodable(request, reply);
    return admission(requestChecks, operationChecks, reply.verdicts, outcome);
  }

  private decision(request: AdmissionRequest, kind: KeyStepKind): AdmissionDecision {
    const { requestChecks, operationChecks, key } = request;
    if (key === undefined || this.options.keys === undefined) return { requestChecks, operationChecks };
    return { requestChecks, operationChecks, key: this.step(key, kind) };
  }

  private step(key: KeyStep, kind: KeyStepKind): NonNullable<AdmissionDecision['key']> {
    return {
      kind,
      redisKey: this.options.keys!.prefix + key.scope,
      fingerprint: key.fingerprint,
      leaseMs: key.leaseMs,
      ttlMs: key.ttlMs,
    };
  }

  /**
   * A cache entry that does not decode counts as a miss: the request checks it paid are given
   * back and the request is decided again as a new key.
   */
  private async undecodable(request: AdmissionRequest, reply: AdmissionReply): Promise<Admission> {
    const { requestChecks, operationChecks } = request;
    if (!isBlocked(requestChecks, reply.verdicts)) {
      await this.options.rateLimits.cancel(
        requestChecks,
        requestChecks.map(() => reply.now),
      );
    }
    const again = await this.options.rateLimits.admit({ requestChecks, operationChecks });
    return admission(requestChecks, operationChecks, again.verdicts, unknownKey);
  }

  private async admitAcrossSlots(request: AdmissionRequest): Promise<Admission> {
    const { requestChecks, operationChecks, key } = request;
    const all = [...requestChecks, ...operationChecks];
    if (key === undefined || this.options.keys === undefined) {
      const { verdicts } = await this.options.rateLimits.consumeTimed(all);
      return key === undefined
        ? plain(requestChecks, operationChecks, verdicts)
        : admission(requestChecks, operationChecks, verdicts, unknownKey);
    }
    const record = this.options.keys.kind === 'record';
    const lookup = await this.options.rateLimits.admit({
      requestChecks: [],
      operationChecks: [],
      key: this.step(key, record ? KeyStepKind.recordLookup : KeyStepKind.cache),
    });
    const seen = keyOutcome(lookup.key!, !record);
    if (seen?.status === 'found') {
      const [paid, peeked] = await Promise.all([
        this.options.rateLimits.consume(requestChecks),
        this.options.rateLimits.peek(operationChecks),
      ]);
      return admission(requestChecks, operationChecks, [...paid, ...peeked], seen);
    }
    const { verdicts, at } = await this.options.rateLimits.consumeTimed(all);
    // A handler that claims in its own transaction (`claim: false`) gets the key unclaimed.
    if (isBlocked(all, verdicts) || !record || key.claim === false) {
      return admission(
        requestChecks,
        operationChecks,
        verdicts,
        seen?.status === 'unknown' ? seen : unknownKey,
      );
    }
    const claim = await this.options.rateLimits.admit({
      requestChecks: [],
      operationChecks: [],
      key: this.step(key, KeyStepKind.record),
    });
    const outcome = keyOutcome(claim.key!, false)!;
    if (outcome.status === 'found') {
      // A concurrent claimant won: this request is a conflict and owes no operation quota.
      await this.options.rateLimits
        .cancel(operationChecks, at.slice(requestChecks.length))
        .catch(() => undefined);
    }
    return admission(requestChecks, operationChecks, verdicts, outcome);
  }
}

const unknownKey: KeyOutcome = { status: 'unknown' };
const cacheMissed: KeyOutcome = { status: 'unknown', missed: true };

/** A record the script claims, or only looks up when the handler claims it itself (`claim: false`). */
function recordKind(key: KeyStep | undefined): KeyStepKind {
  return key?.claim === false ? KeyStepKind.recordLookup : KeyStepKind.record;
}

/**
 * A key step's reply as an outcome; `null` when a check refused (nothing claimed); `undefined`
 * for a cache entry that does not decode. Nothing found by a `cache` step is a miss.
 */
function keyOutcome(reply: KeyStepReply, cache: boolean): KeyOutcome | null | undefined {
  switch (reply[0]) {
    case 1: {
      const [, fence, name, data] = reply as [1, Buffer, Buffer | null, Buffer | null, 0, 0];
      const checkpoint: Checkpoint | null =
        name === null ? null : { name: name.toString(), data: JSON.parse(data!.toString()) as JsonValue };
      return { status: 'claimed', fence: Number(fence.toString()), checkpoint };
    }
    case 0: {
      const [, state, fingerprint, leaseRemainingMs, expiresInMs, response] = reply as [
        0,
        Buffer,
        Buffer,
        number,
        number,
        Buffer | null,
      ];
      const record: RecordView = {
        state: state.toString() as RecordState,
        fingerprint: fingerprint.toString(),
        leaseRemainingMs,
        expiresInMs,
        response: response === null ? null : responseFromText(response.toString()),
      };
      return { status: 'found', record };
    }
    case 3: {
      const [, bytes, expiresInMs] = reply as [3, Buffer, number, 0, 0, 0];
      try {
        const { fingerprint, response } = completedFromBytes(bytes);
        return {
          status: 'found',
          record: { state: 'completed', fingerprint, leaseRemainingMs: 0, expiresInMs, response },
        };
      } catch {
        return undefined;
      }
    }
    case 2:
      return null;
    default:
      return cache ? cacheMissed : unknownKey;
  }
}

/** An admission with a key step: found pays request checks only; otherwise all of them. */
function admission(
  requestChecks: readonly Check[],
  operationChecks: readonly Check[],
  verdicts: Verdict[],
  outcome: KeyOutcome | null,
): Admission {
  const found = outcome?.status === 'found';
  const allowed = found
    ? !isBlocked(requestChecks, verdicts)
    : !isBlocked(requestChecks, verdicts) &&
      !isBlocked(operationChecks, verdicts.slice(requestChecks.length));
  if (outcome === null || (!allowed && !found)) return { allowed, verdicts };
  return { allowed, verdicts, key: outcome };
}

function plain(
  requestChecks: readonly Check[],
  operationChecks: readonly Check[],
  verdicts: Verdict[],
): Admission {
  return {
    allowed:
      !isBlocked(requestChecks, verdicts) &&
      !isBlocked(operationChecks, verdicts.slice(requestChecks.length)),
    verdicts,
  };
}
