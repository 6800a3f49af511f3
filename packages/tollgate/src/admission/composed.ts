import type { RecordView } from '../idempotency/record.ts';
import { isBlocked, type RateLimitStore } from '../ratelimit/store.ts';
import type { Admission, AdmissionRequest, AdmissionStore, KeyOutcome } from './store.ts';

/** A replay cache an admission can read (the tiered store's Redis): a completed record, or null. */
export interface RecordLookup {
  lookup(scope: string): Promise<RecordView | null>;
}

/** Options of {@link ComposedAdmissionStore}. */
export interface ComposedAdmissionStoreOptions {
  /** The counters; every check of an admission is consumed in one call of this store. */
  readonly rateLimits: RateLimitStore;
  /**
   * The replay cache a refused request with a key is looked up in.
   * @default none: a refused request is refused, replay or not
   */
  readonly keys?: RecordLookup;
}

/**
 * An admission over any rate-limit store, for idempotency stores it cannot see into (a SQL
 * truth without a replay cache): every check is consumed all-or-nothing in one store call,
 * and the key is `unknown`, so the truth decides it when the request claims. A key that
 * turns out to be a replay or a conflict then gives its operation checks back (see
 * `RouteGate`), which the one-step stores never need to do. A refused request with a key is
 * looked up in the replay cache (a read of Redis, never of the truth) so that a replay is not
 * refused for quota it would not spend.
 */
export class ComposedAdmissionStore implements AdmissionStore {
  readonly inProcess: boolean;
  readonly claimsKeys = false;

  constructor(private readonly options: ComposedAdmissionStoreOptions) {
    this.inProcess = options.rateLimits.inProcess;
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    const { rateLimits, keys } = this.options;
    const checks =
      request.operationChecks.length === 0
        ? request.requestChecks
        : [...request.requestChecks, ...request.operationChecks];
    if (checks.length === 0 && request.key !== undefined && keys !== undefined) {
      // Nothing to count: the cache's answer is the whole admission.
      const record = await keys.lookup(request.key.scope);
      return {
        allowed: true,
        verdicts: [],
        key: record === null ? cacheMissed : { status: 'found', record },
      };
    }
    const verdicts = checks.length === 0 ? [] : await rateLimits.consume(checks);
    const allowed = !isBlocked(checks, verdicts);
    if (request.key === undefined) return { allowed, verdicts };
    if (allowed) return { allowed, verdicts, key: unknownKey };
    const record = keys === undefined ? null : await keys.lookup(request.key.scope);
    if (record === null) return { allowed, verdicts };
    // A replay, a mismatch or a conflict: it pays for the request, never for the operation.
    const { requestChecks, operationChecks } = request;
    const [spent, peeked] = await Promise.all([
      requestChecks.length === 0 ? [] : rateLimits.consume(requestChecks),
      operationChecks.length === 0 ? [] : rateLimits.peek(operationChecks),
    ]);
    return {
      allowed: !isBlocked(requestChecks, spent),
      verdicts: [...spent, ...peeked],
      key: { status: 'found', record },
    };
  }
}

const unknownKey: KeyOutcome = { status: 'unknown' };
const cacheMissed: KeyOutcome = { status: 'unknown', missed: true };
