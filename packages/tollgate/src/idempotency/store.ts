import type { Checkpoint, RecordView, StoredResponse } from './record.ts';

/** What the engine asks a store to claim: the scope hash, the fingerprint and the timings. */
export interface ClaimRequest {
  /** The scope hash from {@link scopeHash}; never the raw key. */
  readonly scope: string;
  readonly fingerprint: string;
  readonly leaseMs: number;
  readonly ttlMs: number;
  /**
   * The caller has just looked `scope` up in the replay cache and found nothing (an admission
   * that read it): a store with a cache in front of its truth goes straight to the truth.
   * Only a hint: a store without a cache ignores it, and the truth decides either way.
   */
  readonly cacheMissed?: boolean;
}

/** The answer of {@link IdempotencyStore.claim}. */
export type ClaimResult =
  | {
      readonly claimed: true;
      /** Larger than every fence this scope has had before. */
      readonly fence: number;
      /** The checkpoint a crashed or released claimant left, for this claimant to resume from. */
      readonly checkpoint: Checkpoint | null;
    }
  | { readonly claimed: false; readonly record: RecordView };

/** What {@link IdempotencyStore.complete} stores. */
export interface Completion {
  readonly scope: string;
  readonly fence: number;
  /** The claim's fingerprint (a cache in front of the store keeps it beside the response). */
  readonly fingerprint: string;
  readonly response: StoredResponse;
  readonly ttlMs: number;
}

/** The answer of every fenced write: refused when another claimant has taken the key over. */
export type FenceResult = { readonly ok: true } | { readonly ok: false; readonly reason: 'stale-fence' };

/**
 * The atomic primitives an idempotency store provides. The engine holds the state machine;
 * a store only has to make each primitive atomic, using its own clock for leases and expiry.
 *
 * `claim` takes the key when, by the store's clock, the scope has
 * - no record, or one whose TTL has ended (and holds no live lease): a fresh record;
 * - a `released` record with no checkpoint: any fingerprint may claim it;
 * - a `released` record with a checkpoint, or an `in-flight` one whose lease has ended, and the
 *   same fingerprint: a takeover that keeps the checkpoint.
 * A claim sets the state to `in-flight`, the lease to `leaseMs` from now and the fence to
 * `max(previous fence + 1, now in ms)`, so fences grow even across a sweep of the record.
 * Otherwise it answers the record as it is.
 *
 * Every other write succeeds only while the record is `in-flight` under exactly `fence`.
 */
export interface IdempotencyStore {
  /**
   * For a store bound to a transaction (`within(tx)`): the store it was bound from, outside
   * any transaction. Leases are renewed there, and a claim is released there once the
   * transaction is over. Undefined for a store that is not bound.
   */
  readonly home?: IdempotencyStore;
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Renews the lease to `leaseMs` from now. */
  extend(scope: string, fence: number, leaseMs: number): Promise<FenceResult>;
  /** Replaces the record's checkpoint. */
  checkpoint(scope: string, fence: number, checkpoint: Checkpoint): Promise<FenceResult>;
  /** Stores the response, drops the checkpoint and keeps the record `ttlMs` from now. */
  complete(completion: Completion): Promise<FenceResult>;
  /** Frees the key for a retry, keeping the checkpoint. */
  release(scope: string, fence: number): Promise<FenceResult>;
  /** Deletes up to `limit` records whose TTL has ended and which hold no live lease. */
  sweep(limit: number): Promise<number>;
  /**
   * Frees a completed key — given `fence`, only if the claim holding that fence completed it,
   * not a later one under the same key: its response is dropped and the record is released
   * with no checkpoint, so the next request with the key, whatever its body, runs anew (e.g. a
   * server-generated key whose result has been used up). The fence stays, so the next claim's
   * is larger. A record in flight or released is left alone: forgetting it could let a second
   * effect run. True if a record was forgotten.
   */
  forget(scope: string, fence?: number): Promise<boolean>;
}
