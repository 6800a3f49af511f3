import type { IdempotencyStore } from '../idempotency/store.ts';
import { RedisIdempotencyStore } from '../idempotency/stores/redis.ts';
import { RedisReplayCache } from '../idempotency/stores/replay-cache.ts';
import { TieredIdempotencyStore } from '../idempotency/stores/tiered.ts';
import type { RateLimitStore } from '../ratelimit/store.ts';
import { MemoryRateLimitStore } from '../ratelimit/stores/memory.ts';
import { RedisRateLimitStore } from '../ratelimit/stores/redis.ts';
import { ComposedAdmissionStore, type RecordLookup } from './composed.ts';
import type { InProcessKeys } from './in-process-keys.ts';
import { MemoryAdmissionStore } from './memory.ts';
import { type RedisAdmissionKeys, RedisAdmissionStore } from './redis.ts';
import type { AdmissionStore } from './store.ts';

/**
 * The admission store for a pair of stores: one that decides limits and key in one step
 * where the two live together — memory counters with memory records (or a memory replay
 * cache in front of PGlite); Redis counters with Redis records (or the tiered store's Redis
 * replay cache) on the same client — else the limits in one call and the key left to the
 * truth.
 */
export function admissionFor(rateLimits: RateLimitStore, keys: IdempotencyStore): AdmissionStore {
  const cache = keys instanceof TieredIdempotencyStore ? keys.cache : undefined;
  if (rateLimits instanceof MemoryRateLimitStore) {
    const inProcess = cache ?? keys;
    if (isInProcess(inProcess)) return new MemoryAdmissionStore({ rateLimits, keys: inProcess });
  }
  if (rateLimits instanceof RedisRateLimitStore) {
    const together = redisKeys(rateLimits, keys);
    if (together) return new RedisAdmissionStore({ rateLimits, keys: together });
  }
  return new ComposedAdmissionStore({ rateLimits, ...(canLookUp(keys) && { keys }) });
}

/** Where the Redis admission finds the keys, when they live on the counters' own client. */
function redisKeys(rateLimits: RedisRateLimitStore, keys: IdempotencyStore): RedisAdmissionKeys | undefined {
  if (keys instanceof RedisIdempotencyStore && keys.redis === rateLimits.redis) {
    return { kind: 'record', prefix: keys.prefix };
  }
  const cache = keys instanceof TieredIdempotencyStore ? keys.cache : undefined;
  if (cache instanceof RedisReplayCache && cache.redis === rateLimits.redis) {
    return { kind: 'cache', prefix: cache.prefix };
  }
  return undefined;
}

function isInProcess(keys: object): keys is InProcessKeys {
  return typeof (keys as Partial<InProcessKeys>).find === 'function';
}

function canLookUp(keys: IdempotencyStore): keys is IdempotencyStore & RecordLookup {
  return typeof (keys as Partial<RecordLookup>).lookup === 'function';
}
