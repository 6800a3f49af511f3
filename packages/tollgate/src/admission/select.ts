import type { IdempotencyStore } from '../idempotency/store.ts';
import { TieredIdempotencyStore } from '../idempotency/stores/tiered.ts';
import type { RateLimitStore } from '../ratelimit/store.ts';
import { MemoryRateLimitStore } from '../ratelimit/stores/memory.ts';
import { ComposedAdmissionStore, type RecordLookup } from './composed.ts';
import type { InProcessKeys } from './in-process-keys.ts';
import { MemoryAdmissionStore } from './memory.ts';
import type { AdmissionStore } from './store.ts';

/**
 * The admission store for a pair of stores: one that decides limits and key in one step
 * where the two live together (memory and memory; one Redis), else limits in one call and the
 * key left to the truth.
 */
export function admissionFor(rateLimits: RateLimitStore, keys: IdempotencyStore): AdmissionStore {
  if (rateLimits instanceof MemoryRateLimitStore) {
    // The memory store's records, or a memory replay cache in front of a SQL truth.
    const inProcess = keys instanceof TieredIdempotencyStore ? keys.cache : keys;
    if (isInProcess(inProcess)) return new MemoryAdmissionStore({ rateLimits, keys: inProcess });
  }
  return new ComposedAdmissionStore({ rateLimits, ...(canLookUp(keys) && { keys }) });
}

function canLookUp(keys: IdempotencyStore): keys is IdempotencyStore & RecordLookup {
  return typeof (keys as Partial<RecordLookup>).lookup === 'function';
}

function isInProcess(keys: object): keys is InProcessKeys {
  return typeof (keys as Partial<InProcessKeys>).find === 'function';
}
