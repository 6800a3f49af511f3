import type { KeyOutcome, KeyStep } from './store.ts';

/**
 * Idempotency keys an in-process admission can decide synchronously, in the same step as
 * the rate limits: a `MemoryIdempotencyStore`, or a replay cache in front of a SQL truth.
 */
export interface InProcessKeys {
  /**
   * What a claim would be refused on, without claiming: `found` with the record (completed,
   * in flight under a live lease, or not claimable by this fingerprint); `unknown` when the
   * key is absent, expired, released or otherwise claimable by this request.
   */
  find(step: KeyStep): KeyOutcome;
  /**
   * Claims the key in the same synchronous step (`claimed`), or answers the record that
   * refused it (`found`). Left out by a store that cannot claim here (a replay cache whose
   * truth claims later): a new key then answers `unknown`.
   */
  claimNow?(step: KeyStep): KeyOutcome;
}
