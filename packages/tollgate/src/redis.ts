/**
 * `tollgate/redis`: the Redis stores. Needs the optional peer dependency `ioredis`.
 */
export {
  type RedisAdmissionKeys,
  RedisAdmissionStore,
  type RedisAdmissionStoreOptions,
} from './admission/redis.ts';
export { RedisIdempotencyStore, type RedisIdempotencyStoreOptions } from './idempotency/stores/redis.ts';
export { RedisReplayCache, type RedisReplayCacheOptions } from './idempotency/stores/replay-cache.ts';
export { TieredIdempotencyStore, type TieredIdempotencyStoreOptions } from './idempotency/stores/tiered.ts';
export {
  RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
  StoreUnavailableError,
} from './ratelimit/stores/redis.ts';
export type { RedisClient } from './scripting/script.ts';
