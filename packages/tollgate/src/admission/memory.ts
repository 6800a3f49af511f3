import { isBlocked } from '../ratelimit/store.ts';
import type { MemoryRateLimitStore } from '../ratelimit/stores/memory.ts';
import type { InProcessKeys } from './in-process-keys.ts';
import type { Admission, AdmissionRequest, AdmissionStore, KeyOutcome } from './store.ts';

/** Options of {@link MemoryAdmissionStore}. */
export interface MemoryAdmissionStoreOptions {
  /** The counters every admission decides on. */
  rateLimits: MemoryRateLimitStore;
  /**
   * Where an admission's key is looked up, and claimed when the keys can claim here.
   * @default none: a key step answers `unknown` and the truth decides later
   */
  keys?: InProcessKeys;
}

const unknown: KeyOutcome = { status: 'unknown' };

/**
 * The embedded admission: every limit and the idempotency key decided in one synchronous
 * step (no await between the lookup, the consumption and the claim), so it is exact under
 * any concurrency within this process.
 *
 * @example
 * const admissions = new MemoryAdmissionStore({
 *   rateLimits: new MemoryRateLimitStore(),
 *   keys: new MemoryIdempotencyStore(),
 * });
 * const admission = await admissions.admit({ requestChecks, operationChecks, key });
 */
export class MemoryAdmissionStore implements AdmissionStore {
  readonly inProcess = true;
  readonly claimsKeys = true;

  constructor(private readonly options: MemoryAdmissionStoreOptions) {}

  admit(request: AdmissionRequest): Promise<Admission> {
    try {
      return Promise.resolve(this.admitNow(request));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** {@link admit} as the synchronous step it is. */
  admitNow({ requestChecks, operationChecks, key }: AdmissionRequest): Admission {
    const { rateLimits, keys } = this.options;
    const seen = key === undefined || keys === undefined ? unknown : keys.find(key);
    if (seen.status === 'found') {
      // A replay, a mismatch or a conflict: it pays for the request, never for the operation.
      const spent = rateLimits.decideNow(requestChecks, 'consume');
      const peeked = rateLimits.decideNow(operationChecks, 'peek');
      return { allowed: !isBlocked(requestChecks, spent), verdicts: spent.concat(peeked), key: seen };
    }
    const checks =
      operationChecks.length === 0
        ? requestChecks
        : requestChecks.length === 0
          ? operationChecks
          : requestChecks.concat(operationChecks);
    const verdicts = rateLimits.decideNow(checks, 'consume');
    const allowed = !isBlocked(checks, verdicts);
    // A refused new key claims nothing; an admitted one is claimed by keys that can.
    if (key === undefined || !allowed) return { allowed, verdicts };
    const claimed = key.claim === false ? undefined : keys?.claimNow?.(key);
    return { allowed, verdicts, key: claimed ?? unknown };
  }
}
