import { Deadline } from '../../deadline.ts';
import type { RedisClient } from '../../redis/script.ts';
import { type Checkpoint, RecordState, type StoredResponse } from '../record.ts';
import type { ClaimRequest, ClaimResult, Completion, FenceResult, IdempotencyStore } from '../store.ts';
import { CoalescedGet } from './coalesced-get.ts';
import { completedFromBytes, completedToBytes } from './response-codec.ts';

/** Options of {@link TieredIdempotencyStore}. */
export interface TieredIdempotencyStoreOptions {
  /** The store that decides every claim: PostgreSQL (or PGlite). */
  readonly truth: IdempotencyStore;
  /** Where completed responses are cached for replay. */
  readonly redis: RedisClient;
  /**
   * Prepended to every cache key.
   * @default 'tollgate:idem-replay:'
   */
  readonly prefix?: string;
  /**
   * How long a replay waits for Redis before asking the truth instead, in ms (the wait ends
   * between this and twice this). A slow or dead Redis costs a request at most that, never a
   * hung request.
   * @default 50
   */
  readonly redisTimeoutMs?: number;
  /**
   * Copy a response to Redis as soon as `complete` returns. Set it to false when the truth
   * completes inside the caller's transaction (a store bound to it, as with `within(tx)`):
   * `complete` then returns before the commit, and a cached answer could outlive a rollback.
   * Replays fill the cache from the committed record instead.
   * @default true
   */
  readonly cacheOnComplete?: boolean;
}

/**
 * PostgreSQL decides, Redis remembers answers. Every claim, fence check and completion goes to
 * the truth; a completed response is copied to Redis once the truth has it (or, with
 * `cacheOnComplete: false`, when the first replay reads it committed), so a
 * replay costs one Redis read (concurrent replays share one `MGET`). Redis holds nothing but completed responses: when it fails,
 * times out or comes back empty, requests fall through to the truth, and no answer from Redis
 * can ever grant a claim — losing it never allows a second effect. Misses refill the cache.
 */
export class TieredIdempotencyStore implements IdempotencyStore {
  private readonly truth: IdempotencyStore;
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly deadline: Deadline;
  private readonly reads: CoalescedGet;
  private readonly cacheOnComplete: boolean;

  constructor(options: TieredIdempotencyStoreOptions) {
    this.truth = options.truth;
    this.redis = options.redis;
    this.prefix = options.prefix ?? 'tollgate:idem-replay:';
    this.deadline = new Deadline(options.redisTimeoutMs ?? 50);
    this.reads = new CoalescedGet(options.redis);
    this.cacheOnComplete = options.cacheOnComplete ?? true;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const bytes = await this.deadline.within(this.reads.get(this.prefix + request.scope));
    const cached = bytes === null ? null : decoded(bytes);
    if (cached !== null) {
      const { fingerprint, response } = cached;
      const view = {
        state: RecordState.Completed,
        fingerprint,
        leaseRemainingMs: 0,
        expiresInMs: 0,
        response,
      };
      return { claimed: false, record: view };
    }
    const result = await this.truth.claim(request);
    if (!result.claimed && result.record.state === RecordState.Completed && result.record.expiresInMs > 0) {
      const { fingerprint, response, expiresInMs } = result.record;
      // Not awaited: refilling the cache must not slow the replay that found it empty.
      void this.cache(request.scope, fingerprint, response!, expiresInMs);
    }
    return result;
  }

  extend(scope: string, fence: number, leaseMs: number): Promise<FenceResult> {
    return this.truth.extend(scope, fence, leaseMs);
  }

  checkpoint(scope: string, fence: number, checkpoint: Checkpoint): Promise<FenceResult> {
    return this.truth.checkpoint(scope, fence, checkpoint);
  }

  async complete(completion: Completion): Promise<FenceResult> {
    const result = await this.truth.complete(completion);
    if (result.ok && this.cacheOnComplete) {
      await this.cache(completion.scope, completion.fingerprint, completion.response, completion.ttlMs);
    }
    return result;
  }

  release(scope: string, fence: number): Promise<FenceResult> {
    return this.truth.release(scope, fence);
  }

  /** Sweeps the truth; Redis expires cached responses itself. */
  sweep(limit: number): Promise<number> {
    return this.truth.sweep(limit);
  }

  /** Best effort: a failed write only means the next replay asks the truth. */
  private async cache(
    scope: string,
    fingerprint: string,
    response: StoredResponse,
    ttlMs: number,
  ): Promise<void> {
    const value = completedToBytes(fingerprint, response);
    await this.deadline.within(
      this.redis.set(this.prefix + scope, value, 'PX', Math.max(1, Math.floor(ttlMs))),
    );
  }
}

/** A cached completion, or null when the value is not one (then the truth answers). */
function decoded(bytes: Buffer): ReturnType<typeof completedFromBytes> | null {
  try {
    return completedFromBytes(bytes);
  } catch {
    return null;
  }
}
