import type { Checkpoint, RecordView } from '../idempotency/record.ts';
import type { Verdict } from '../ratelimit/algorithm.ts';
import type { Check } from '../ratelimit/store.ts';

/**
 * The one decision a protected request gets: every limit that applies to it and its
 * idempotency key, decided together in one atomic step of one store (one script call on
 * Redis, one synchronous step in memory).
 */
export interface AdmissionRequest {
  /** Checks every request pays, replays, conflicts and mismatches included. */
  readonly requestChecks: readonly Check[];
  /** Checks only a request that will run its handler pays: a new key, or no key at all. */
  readonly operationChecks: readonly Check[];
  /** The request's idempotency key, looked up (and claimed, where the store can) in the same step. */
  readonly key?: KeyStep;
}

/** The idempotency part of an admission. */
export interface KeyStep {
  /** The scope hash (principal + method + route + key); never the raw key. */
  readonly scope: string;
  readonly fingerprint: string;
  readonly leaseMs: number;
  readonly ttlMs: number;
  /**
   * `false` when the handler claims the key itself, later, in its own transaction: the step
   * then only looks the key up (`found` or `unknown`) and never claims it.
   * @default true
   */
  readonly claim?: boolean;
}

/** What the admission found of the key. */
export type KeyOutcome =
  /** The store claimed the key for this request in the same step. */
  | { readonly status: 'claimed'; readonly fence: number; readonly checkpoint: Checkpoint | null }
  /** The key has a record: completed (a replay or a mismatch), or held by another claimant. */
  | { readonly status: 'found'; readonly record: RecordView }
  /**
   * Nothing this step can see (a replay cache that missed, or no cache): the truth decides,
   * when the adapter or the handler claims (e.g. the first statement of its transaction).
   * `missed` says this step did read the replay cache and it had nothing, so the claim need
   * not read it again.
   */
  | { readonly status: 'unknown'; readonly missed?: boolean };

/**
 * The answer of {@link AdmissionStore.admit}.
 *
 * - The key was `found`: only `requestChecks` were decided and consumed, all-or-nothing;
 *   `operationChecks` were only peeked (their verdicts say what they would answer).
 * - Otherwise: every check was decided and consumed all-or-nothing, and only when all
 *   enforcing checks admitted was the key claimed.
 * A refused admission changed nothing: no counter, no claim.
 */
export interface Admission {
  /** Every enforcing check that applied admitted (and so all of them were consumed). */
  readonly allowed: boolean;
  /** One verdict per check: `requestChecks` then `operationChecks`, in order. */
  readonly verdicts: readonly Verdict[];
  /** Set when the request carried a key step; `undefined` on a refused new key (nothing claimed). */
  readonly key?: KeyOutcome;
}

/** Decides admissions; every call is one atomic step on the store. */
export interface AdmissionStore {
  /** True for a store inside this process (no deadline needed; see RateLimitStore.inProcess). */
  readonly inProcess: boolean;
  /**
   * The admission itself claims keys (where they live with the counters): one that missed its
   * deadline may still claim when its store wakes, so the key is not asked for again then.
   */
  readonly claimsKeys: boolean;
  admit(request: AdmissionRequest): Promise<Admission>;
}
