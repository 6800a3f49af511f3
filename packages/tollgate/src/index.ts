/**
 * `tollgate`: the rate limiter with its embedded in-memory store. Redis and PostgreSQL
 * stores live in `tollgate/redis` and `tollgate/postgres`, so their drivers stay optional.
 */

export type { InProcessKeys } from './admission/in-process-keys.ts';
export { MemoryAdmissionStore, type MemoryAdmissionStoreOptions } from './admission/memory.ts';
export type {
  Admission,
  AdmissionRequest,
  AdmissionStore,
  KeyOutcome,
  KeyStep,
} from './admission/store.ts';
export { type Clock, systemClock } from './clock.ts';
export { ErrorCode } from './codes.ts';
export { StoreTimeoutError } from './deadline.ts';
export { TollgateError } from './errors.ts';
export type { AlgorithmName, Limits, Verdict } from './ratelimit/algorithm.ts';
export { algorithmNames } from './ratelimit/algorithm.ts';
export { type HeaderOptions, rateLimitHeaders } from './ratelimit/headers.ts';
export {
  type PolicyResult,
  RateLimiter,
  type RateLimiterOptions,
  type RateLimitResult,
  StoreReplyError,
} from './ratelimit/limiter.ts';
export {
  definePolicy,
  type Policy,
  type PolicyOptions,
  type RequestFacts,
  type Subject,
  type SubjectPart,
} from './ratelimit/policy.ts';
export type { Check, RateLimitStore } from './ratelimit/store.ts';
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from './ratelimit/stores/memory.ts';
