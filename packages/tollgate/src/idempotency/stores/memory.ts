import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import { type Checkpoint, RecordState, type StoredResponse } from '../record.ts';
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

const stale: FenceResult = { ok: false, reason: 'stale-fence' };
const done: FenceResult = { ok: true };

/**
 * The embedded default: records in a `Map` of this process, timed by the injected clock.
 * Exactly-once holds within one process only; use PostgreSQL (or the tiered store) when
 * several processes serve the same keys.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, MemoryRecord>();
  private readonly clock: Pick<Clock, 'now'>;

  constructor(options: { /** @default systemClock */ readonly clock?: Pick<Clock, 'now'> } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const now = this.clock.now();
    const record = this.records.get(request.scope);
    const leaseUntil = now + request.leaseMs;
    if (record === undefined || (record.expiresAt <= now && !leased(record, now))) {
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
    const sameRequest = record.fingerprint === request.fingerprint;
    const claimable =
      record.state === RecordState.Released
        ? record.checkpoint === null || sameRequest
        : record.state === RecordState.InFlight && !leased(record, now) && sameRequest;
    if (!claimable) {
      return {
        claimed: false,
        record: {
          state: record.state,
          fingerprint: record.fingerprint,
          leaseRemainingMs: Math.max(0, record.leaseUntil - now),
          expiresInMs: record.expiresAt - now,
          // A copy: whoever sends the replay must not be able to change the stored bytes.
          response: record.response && { ...record.response, body: Uint8Array.from(record.response.body) },
        },
      };
    }
    record.state = RecordState.InFlight;
    record.fingerprint = request.fingerprint;
    record.fence = Math.max(record.fence + 1, now);
    record.leaseUntil = leaseUntil;
    record.expiresAt = Math.max(record.expiresAt, leaseUntil);
    return { claimed: true, fence: record.fence, checkpoint: record.checkpoint };
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

  private owned(scope: string, fence: number): MemoryRecord | undefined {
    const record = this.records.get(scope);
    return record?.state === RecordState.InFlight && record.fence === fence ? record : undefined;
  }
}

function leased(record: MemoryRecord, now: number): boolean {
  return record.state === RecordState.InFlight && record.leaseUntil > now;
}
