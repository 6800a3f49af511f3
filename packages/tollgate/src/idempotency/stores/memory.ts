import type { InProcessKeys } from '../../admission/in-process-keys.ts';
import type { KeyOutcome } from '../../admission/store.ts';
import { type Clock, systemClock } from '../../clock.ts';
import { type Checkpoint, RecordState, type RecordView, type StoredResponse } from '../record.ts';
import type { ClaimRequest, ClaimResult, Completion, FenceResult, IdempotencyStore } from '../store.ts';

interface MemoryRecord {
  state: RecordState;
  fingerprint: string;
  fence: number;
  leaseUntil: number;
  expiresAt: number;
  checkpoint: Checkpoint | null;
  response: StoredResponse | null;
}

const unknown: KeyOutcome = { status: 'unknown' };
const stale: FenceResult = { ok: false, reason: 'stale-fence' };
const done: FenceResult = { ok: true };

/** Options of {@link MemoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /**
   * The time leases and expiry run by.
   * @default systemClock
   */
  readonly clock?: Pick<Clock, 'now'>;
}

/**
 * The embedded default: records in a `Map` of this process, timed by the injected clock.
 * Exactly-once holds within one process only; use PostgreSQL (or the tiered store) when
 * several processes serve the same keys. As {@link InProcessKeys}, it lets a
 * `MemoryAdmissionStore` look up and claim a key in the same step as the rate limits.
 */
export class MemoryIdempotencyStore implements IdempotencyStore, InProcessKeys {
  private readonly records = new Map<string, MemoryRecord>();
  private readonly clock: Pick<Clock, 'now'>;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    return this.claimSync(request);
  }

  /**
   * What `claim` would answer, without claiming: `found` with the record a claim would be
   * refused on (completed, held under a live lease, or not claimable by this fingerprint),
   * else `unknown`. Synchronous, so an admission decides limits and key in one step.
   */
  find(request: ClaimRequest): KeyOutcome {
    const now = this.clock.now();
    const record = this.records.get(request.scope);
    return access(record, request, now) === 'held'
      ? { status: 'found', record: view(record!, now) }
      : unknown;
  }

  /** `claim` as one synchronous step, answered as an admission's key outcome. */
  claimNow(request: ClaimRequest): KeyOutcome {
    const result = this.claimSync(request);
    return result.claimed
      ? { status: 'claimed', fence: result.fence, checkpoint: result.checkpoint }
      : { status: 'found', record: result.record };
  }

  private claimSync(request: ClaimRequest): ClaimResult {
    const now = this.clock.now();
    const record = this.records.get(request.scope);
    const leaseUntil = now + request.leaseMs;
    switch (access(record, request, now)) {
      case 'held':
        return { claimed: false, record: view(record!, now) };
      case 'fresh': {
        const fence = Math.max((record?.fence ?? 0) + 1, now);
        this.records.set(request.scope, {
          state: RecordState.InFlight,
          fingerprint: request.fingerprint,
          fence,
          leaseUntil,
          expiresAt: Math.max(now + request.ttlMs, leaseUntil),
          checkpoint: null,
          response: null,
        });
        return { claimed: true, fence, checkpoint: null };
      }
      case 'takeover': {
        const taken = record!;
        taken.state = RecordState.InFlight;
        taken.fingerprint = request.fingerprint;
        taken.fence = Math.max(taken.fence + 1, now);
        taken.leaseUntil = leaseUntil;
        taken.expiresAt = Math.max(taken.expiresAt, leaseUntil);
        return { claimed: true, fence: taken.fence, checkpoint: taken.checkpoint };
      }
    }
  }

  async extend(scope: string, fence: number, leaseMs: number): Promise<FenceResult> {
    const record = this.owned(scope, fence);
    if (record === undefined) return stale;
    record.leaseUntil = this.clock.now() + leaseMs;
    record.expiresAt = Math.max(record.expiresAt, record.leaseUntil);
    return done;
  }

  async checkpoint(scope: string, fence: number, checkpoint: Checkpoint): Promise<FenceResult> {
    const record = this.owned(scope, fence);
    if (record === undefined) return stale;
    // A copy, so the caller changing its object later cannot change the recovery point.
    record.checkpoint = { name: checkpoint.name, data: structuredClone(checkpoint.data) };
    return done;
  }

  async complete({ scope, fence, response, ttlMs }: Completion): Promise<FenceResult> {
    const record = this.owned(scope, fence);
    if (record === undefined) return stale;
    record.state = RecordState.Completed;
    record.response = { ...response, body: Uint8Array.from(response.body) };
    record.checkpoint = null;
    record.expiresAt = this.clock.now() + ttlMs;
    return done;
  }

  async release(scope: string, fence: number): Promise<FenceResult> {
    const record = this.owned(scope, fence);
    if (record === undefined) return stale;
    record.state = RecordState.Released;
    return done;
  }

  async sweep(limit: number): Promise<number> {
    const now = this.clock.now();
    let swept = 0;
    for (const [scope, record] of this.records) {
      if (swept >= limit) break;
      if (record.expiresAt > now || leased(record, now)) continue;
      this.records.delete(scope);
      swept++;
    }
    return swept;
  }

  async forget(scope: string, fence?: number): Promise<boolean> {
    const record = this.records.get(scope);
    if (record?.state !== RecordState.Completed || (fence !== undefined && record.fence !== fence))
      return false;
    record.state = RecordState.Released;
    record.response = null;
    return true;
  }

  private owned(scope: string, fence: number): MemoryRecord | undefined {
    const record = this.records.get(scope);
    return record?.state === RecordState.InFlight && record.fence === fence ? record : undefined;
  }
}

/**
 * How a claim meets the scope's record (the rules of {@link IdempotencyStore.claim}): `fresh`
 * for none or one whose TTL has ended, `takeover` for one this request may claim and keep its
 * checkpoint, `held` for one the claim must answer instead.
 */
function access(
  record: MemoryRecord | undefined,
  request: ClaimRequest,
  now: number,
): 'fresh' | 'takeover' | 'held' {
  if (record === undefined || (record.expiresAt <= now && !leased(record, now))) return 'fresh';
  const sameRequest = record.fingerprint === request.fingerprint;
  const claimable =
    record.state === RecordState.Released
      ? record.checkpoint === null || sameRequest
      : record.state === RecordState.InFlight && !leased(record, now) && sameRequest;
  return claimable ? 'takeover' : 'held';
}

function view(record: MemoryRecord, now: number): RecordView {
  return {
    state: record.state,
    fingerprint: record.fingerprint,
    leaseRemainingMs: Math.max(0, record.leaseUntil - now),
    expiresInMs: record.expiresAt - now,
    // A copy: whoever sends the replay must not be able to change the stored bytes.
    response: record.response && { ...record.response, body: Uint8Array.from(record.response.body) },
  };
}

function leased(record: MemoryRecord, now: number): boolean {
  return record.state === RecordState.InFlight && record.leaseUntil > now;
}
