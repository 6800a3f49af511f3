/**
 * `tollgate/idempotency`: idempotency keys with exactly-once effects — key parsing, scope and
 * fingerprint, the engine, the in-memory store and the store contract. The PostgreSQL and PGlite
 * stores are in `tollgate/postgres`, the Redis and tiered stores in `tollgate/redis`.
 */

export { canonicalJson, MAX_JSON_DEPTH } from './idempotency/canonical-json.ts';
export { Claim, type CompleteResult } from './idempotency/claim.ts';
export {
  type BeginOptions,
  type BeginRequest,
  type BeginResult,
  BeginStatus,
  IdempotencyEngine,
} from './idempotency/engine.ts';
export {
  FingerprintError,
  type FingerprintErrorCode,
  IdempotencyKeyError,
  type IdempotencyKeyErrorCode,
  IdempotencyStoreError,
  isFingerprintError,
} from './idempotency/errors.ts';
export {
  type FingerprintBody,
  type FingerprintInput,
  type FingerprintOptions,
  type FingerprintResult,
  fingerprint,
  tryFingerprint,
} from './idempotency/fingerprint.ts';
export { type KeyParseResult, parseIdempotencyKey } from './idempotency/key.ts';
export type { ClaimOptions, IdempotencyEngineOptions } from './idempotency/options.ts';
export { defaultOutcomePolicy, Outcome, type OutcomePolicy } from './idempotency/outcome.ts';
export {
  type Checkpoint,
  type JsonValue,
  RecordState,
  type RecordView,
  type StoredResponse,
} from './idempotency/record.ts';
export {
  type CapturedHeaders,
  type CapturedResponse,
  DEFAULT_REPLAY_HEADERS,
  type ReplayedResponse,
} from './idempotency/replay.ts';
export { type Scope, scopeHash } from './idempotency/scope.ts';
export type {
  ClaimRequest,
  ClaimResult,
  Completion,
  FenceResult,
  IdempotencyStore,
} from './idempotency/store.ts';
export { MemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from './idempotency/stores/memory.ts';
export {
  type CachedCompletion,
  MemoryReplayCache,
  type MemoryReplayCacheOptions,
  type ReplayCache,
} from './idempotency/stores/replay-cache.ts';
export { TieredIdempotencyStore, type TieredIdempotencyStoreOptions } from './idempotency/stores/tiered.ts';
export { Sweeper, type SweeperOptions, type SweepOptions, sweepExpired } from './idempotency/sweeper.ts';
