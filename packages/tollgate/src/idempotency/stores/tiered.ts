import type { RedisClient } from '../../scripting/script.ts';
import type { Checkpoint, RecordView } from '../record.ts';
import type { ClaimRequest, ClaimResult, Completion, FenceResult, IdempotencyStore } from '../store.ts';
import { completedView, RedisReplayCache, type ReplayCache } from './replay-cache.ts';

/** A truth that can be bound to the caller's transaction (the SQL stores). */
export interface TransactionalStore<Tx> extends IdempotencyStore {
  within(tx: Tx): IdempotencyStore;
}

/** Options of {@link TieredIdempotencyStore}. */
export interface TieredIdempotencyStoreOptions {
  /** The store that decides every claim: PostgreSQL (or PGlite). */
  readonly truth: IdempotencyStore;
  /**
   * Where completed responses are cached for replay: a {@link RedisReplayCache} (several
   * processes), or a {@link MemoryReplayCache} (one process, e.g. in front of PGlite).
   * Give this, or `redis`.
   */
  readonly cache?: ReplayCache;
  /** Shorthand for `cache: new RedisReplayCache({ redis, prefix, timeoutMs: redisTimeoutMs })`. */
  readonly redis?: RedisClient;
  /**
   * Prepended to every Redis cache key (with `redis`).
   * @default 'tollgate:idem-replay:'
   */
  readonly prefix?: string;
  /**
   * How long a replay waits for Redis before asking the truth instead, in ms (with `redis`).
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
 * The truth decides, a cache remembers answers. Every claim, fence check and completion goes
 * to the truth (PostgreSQL, PGlite); a completed response is copied to the cache once the
 * truth has it (or, for a store bound to a transaction, once it has committed: see
 * {@link committed}; else when the first replay reads it), so a replay costs one cache read
 * (concurrent Redis replays share one `MGET`; a memory cache is read in the admission's own
 * step). The cache holds nothing but completed responses: when it fails, times out or comes
 * back empty, requests fall through to the truth, and no answer from it can ever grant a
 * claim — losing it never allows a second effect. Misses refill the cache.
 */
export class TieredIdempotencyStore implements IdempotencyStore {
  /** Where completed responses are kept for replay. */
  readonly cache: ReplayCache;
  private readonly truth: IdempotencyStore;
  private readonly cacheOnComplete: boolean;
  /** Completions not cached yet (see {@link committed}). */
  private readonly uncached: Completion[] = [];
  /** Set on a store bound by {@link within}: the store it was bound from. */
  private boundFrom: TieredIdempotencyStore | undefined;

  constructor(options: TieredIdempotencyStoreOptions) {
    this.truth = options.truth;
    this.cacheOnComplete = options.cacheOnComplete ?? true;
    if (options.cache) this.cache = options.cache;
    else if (options.redis) {
      this.cache = new RedisReplayCache({
        redis: options.redis,
        ...(options.prefix !== undefined && { prefix: options.prefix }),
        ...(options.redisTimeoutMs !== undefined && { timeoutMs: options.redisTimeoutMs }),
      });
    } else throw new TypeError('TieredIdempotencyStore needs a `cache` (or `redis`)');
  }

  /** For a store bound by {@link within}: the store outside the transaction. Undefined otherwise. */
  get home(): TieredIdempotencyStore | undefined {
    return this.boundFrom;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    // Skipped when the caller has just read the cache: a second read would find the same nothing.
    const cached = request.cacheMissed === true ? null : await this.cache.get(request.scope);
    if (cached !== null) return { claimed: false, record: completedView(cached) };
    const result = await this.truth.claim(request);
    if (!result.claimed && result.record.state === 'completed' && result.record.expiresInMs > 0) {
      const { fingerprint, response, expiresInMs } = result.record;
      // Not awaited: refilling the cache must not slow the replay that found it empty.
      void this.cache.refill(request.scope, { fingerprint, response: response! }, expiresInMs);
    }
    return result;
  }

  /**
   * This store with its truth bound to `tx` (`truth.within(tx)`), so a claim and its
   * completion commit or roll back with the caller's business write. Completions made through
   * it are cached by {@link committed}, once the transaction has committed.
   *
   * @example
   * const bound = tiered.within(client);
   * await client.query('BEGIN');
   * const begun = await engine.begin(request, { store: bound });
   * // … the business write, begun.claim.complete(response) …
   * await client.query('COMMIT');
   * await bound.committed();
   */
  within<Tx>(tx: Tx): TieredIdempotencyStore {
    const truth = this.truth as Partial<TransactionalStore<Tx>>;
    if (typeof truth.within !== 'function') {
      throw new TypeError('within(tx) needs a truth that can be bound to a transaction (a SQL store)');
    }
    const bound = new TieredIdempotencyStore({
      truth: truth.within(tx),
      cache: this.cache,
      cacheOnComplete: false,
    });
    bound.boundFrom = this.boundFrom ?? this;
    return bound;
  }

  /**
   * Call once the transaction this store is bound to has committed: caches the responses
   * completed through it, so their first replays are answered from the cache — without asking
   * the truth, and without being refused for quota a replay never spends.
   */
  async committed(): Promise<void> {
    const done = this.uncached.splice(0);
    await Promise.all(done.map((c) => this.cache.set(c.scope, c, c.ttlMs)));
  }

  /** The cached response of `scope` as a completed record, or null; never asks the truth. */
  async lookup(scope: string): Promise<RecordView | null> {
    const cached = await this.cache.get(scope);
    return cached === null ? null : completedView(cached);
  }

  extend(scope: string, fence: number, leaseMs: number): Promise<FenceResult> {
    return this.truth.extend(scope, fence, leaseMs);
  }

  checkpoint(scope: string, fence: number, checkpoint: Checkpoint): Promise<FenceResult> {
    return this.truth.checkpoint(scope, fence, checkpoint);
  }

  async complete(completion: Completion): Promise<FenceResult> {
    const result = await this.truth.complete(completion);
    if (!result.ok) return result;
    if (this.cacheOnComplete) await this.cache.set(completion.scope, completion, completion.ttlMs);
    else this.uncached.push(completion);
    return result;
  }

  release(scope: string, fence: number): Promise<FenceResult> {
    return this.truth.release(scope, fence);
  }

  /**
   * Forgets the completed record in the truth, then its cached response (a replay read between
   * the two may still answer from the cache). Rejects when the cache could not be told; calling
   * again finishes the job.
   */
  async forget(scope: string, fence?: number): Promise<boolean> {
    const forgotten = await this.truth.forget(scope, fence);
    await this.cache.delete(scope);
    return forgotten;
  }

  /** Sweeps the truth; caches expire their entries themselves. */
  sweep(limit: number): Promise<number> {
    return this.truth.sweep(limit);
  }
}
