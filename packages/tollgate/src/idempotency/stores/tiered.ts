import { Deadline } from '../../deadline.ts';
import type { RedisClient } from '../../redis/script.ts';
import { type Checkpoint, RecordState, type RecordView, type StoredResponse } from '../record.ts';
import type { ClaimRequest, ClaimResult, Completion, FenceResult, IdempotencyStore } from '../store.ts';
import { CoalescedGet } from './coalesced-get.ts';
import { completedFromBytes, completedToBytes } from './response-codec.ts';

/** A truth that can be bound to the caller's transaction (the SQL stores). */
export interface TransactionalStore<Tx> extends IdempotencyStore {
  within(tx: Tx): IdempotencyStore;
}

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
  /** Completions not cached yet (see {@link committed}). */
  private readonly uncached: Completion[] = [];

  constructor(
    private readonly options: TieredIdempotencyStoreOptions,
    /** Set on a store bound by {@link within}: the store outside the transaction. */
    readonly home?: TieredIdempotencyStore,
  ) {
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
    if (cached !== null)
      return { claimed: false, record: completedView(cached.fingerprint, cached.response) };
    const result = await this.truth.claim(request);
    if (!result.claimed && result.record.state === RecordState.Completed && result.record.expiresInMs > 0) {
      const { fingerprint, response, expiresInMs } = result.record;
      // Not awaited: refilling the cache must not slow the replay that found it empty.
      void this.cache(request.scope, fingerprint, response!, expiresInMs);
    }
    return result;
  }

  /**
   * This store with its truth bound to `tx` (`truth.within(tx)`), so a claim and its
   * completion commit or roll back with the caller's business write. Completions made through
   * it are not cached (the transaction may still roll back): the first replay caches them
   * from the committed record.
   *
   * @example
   * await pool.transaction(async (tx) => {
   *   const begun = await engine.begin(request, { store: tiered.within(tx) });
   * });
   */
  within<Tx>(tx: Tx): TieredIdempotencyStore {
    const truth = this.truth as Partial<TransactionalStore<Tx>>;
    if (typeof truth.within !== 'function') {
      throw new TypeError('within(tx) needs a truth that can be bound to a transaction (a SQL store)');
    }
    return new TieredIdempotencyStore(
      { ...this.options, truth: truth.within(tx), cacheOnComplete: false },
      this.home ?? this,
    );
  }

  /**
   * The cached response of `scope` as a completed record, or null: Redis only, never the
   * truth, so an admission refused by its limits asks nothing of PostgreSQL.
   */
  async lookup(scope: string): Promise<RecordView | null> {
    const bytes = await this.deadline.within(this.reads.get(this.prefix + scope));
    const cached = bytes === null ? null : decoded(bytes);
    return cached === null ? null : completedView(cached.fingerprint, cached.response);
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
    } else if (result.ok) {
      this.uncached.push(completion);
    }
    return result;
  }

  /**
   * Call once the transaction this store is bound to (`within(tx)`) has committed: caches the
   * responses completed through it, so their first replays are answered from Redis — without
   * asking the truth, and without being refused for quota a replay never spends.
   */
  async committed(): Promise<void> {
    const done = this.uncached.splice(0);
    await Promise.all(done.map((c) => this.cache(c.scope, c.fingerprint, c.response, c.ttlMs)));
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

/** A cached completion as a record (the cache keeps no lease or expiry: Redis expires it). */
function completedView(fingerprint: string, response: StoredResponse): RecordView {
  return { state: RecordState.Completed, fingerprint, leaseRemainingMs: 0, expiresInMs: 1, response };
}

/** A cached completion, or null when the value is not one (then the truth answers). */
function decoded(bytes: Buffer): ReturnType<typeof completedFromBytes> | null {
  try {
    return completedFromBytes(bytes);
  } catch {
    return null;
  }
}
