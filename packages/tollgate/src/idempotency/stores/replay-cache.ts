import type { KeyOutcome, KeyStep } from '../../admission/store.ts';
import { type Clock, systemClock } from '../../clock.ts';
import { Deadline } from '../../deadline.ts';
import { coalesceWrites } from '../../scripting/coalesce-writes.ts';
import type { RedisClient } from '../../scripting/script.ts';
import { RecordState, type RecordView, type StoredResponse } from '../record.ts';
import { CoalescedGet } from './coalesced-get.ts';
import { completedFromBytes, completedToBytes } from './response-codec.ts';

/** A completed response as a cache keeps it: the fingerprint it answers, and the response. */
export interface CachedCompletion {
  readonly fingerprint: string;
  readonly response: StoredResponse;
}

/**
 * Where the tiered store keeps completed responses for fast replays. Best effort on both
 * sides: a miss or a failure only means the truth is asked; nothing read from a cache can
 * ever grant a claim.
 */
export interface ReplayCache {
  get(scope: string): Promise<CachedCompletion | null>;
  /** Caches a response just completed (over whatever is there). */
  set(scope: string, completion: CachedCompletion, ttlMs: number): Promise<void>;
  /**
   * Caches a response read from the truth after a miss — only if nothing is cached for `scope`
   * meanwhile, a {@link delete}'s marker included, so a refill that read the truth just before
   * a forget cannot put the forgotten response back.
   */
  refill(scope: string, completion: CachedCompletion, ttlMs: number): Promise<void>;
  /**
   * Drops the response of `scope` (a forgotten key), leaving a marker for {@link FORGOTTEN_MS}
   * that reads as a miss and that refills do not overwrite. Rejects when the cache could not be
   * told.
   */
  delete(scope: string): Promise<void>;
}

/** How long a dropped response's marker keeps late refills out (longer than any truth read takes). */
export const FORGOTTEN_MS = 60_000;

/** The marker a dropped response leaves in Redis: one byte, which no completion encodes to. */
const forgottenMarker = Buffer.from([0]);

/** A cached completion as the record a claim would be refused on. */
export function completedView({ fingerprint, response }: CachedCompletion): RecordView {
  return { state: RecordState.Completed, fingerprint, leaseRemainingMs: 0, expiresInMs: 1, response };
}

/** Options of {@link RedisReplayCache}. */
export interface RedisReplayCacheOptions {
  readonly redis: RedisClient;
  /** @default 'tollgate:idem-replay:' */
  readonly prefix?: string;
  /**
   * How long a read or write waits for Redis, in ms (the wait ends between this and twice
   * this): a slow or dead Redis costs a request at most that.
   * @default 50
   */
  readonly timeoutMs?: number;
}

/** Completed responses in Redis, one string per scope; reads of one tick share one `MGET`. */
export class RedisReplayCache implements ReplayCache {
  readonly redis: RedisClient;
  readonly prefix: string;
  private readonly deadline: Deadline;
  private readonly reads: CoalescedGet;

  constructor(options: RedisReplayCacheOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? 'tollgate:idem-replay:';
    this.deadline = new Deadline(options.timeoutMs ?? 50);
    this.reads = new CoalescedGet(options.redis);
  }

  async get(scope: string): Promise<CachedCompletion | null> {
    const bytes = await this.deadline.within(this.reads.get(this.prefix + scope));
    return bytes === null ? null : decoded(bytes);
  }

  async set(scope: string, completion: CachedCompletion, ttlMs: number): Promise<void> {
    const value = completedToBytes(completion.fingerprint, completion.response);
    coalesceWrites(this.redis);
    await this.deadline.within(
      this.redis.set(this.prefix + scope, value, 'PX', Math.max(1, Math.floor(ttlMs))),
    );
  }

  async refill(scope: string, completion: CachedCompletion, ttlMs: number): Promise<void> {
    const value = completedToBytes(completion.fingerprint, completion.response);
    coalesceWrites(this.redis);
    await this.deadline.within(
      this.redis.set(this.prefix + scope, value, 'PX', Math.max(1, Math.floor(ttlMs)), 'NX'),
    );
  }

  async delete(scope: string): Promise<void> {
    await this.deadline.guard(this.redis.set(this.prefix + scope, forgottenMarker, 'PX', FORGOTTEN_MS));
  }
}

/** A cached value as a completion, or null when it is not one (then the truth answers). */
function decoded(bytes: Buffer): CachedCompletion | null {
  if (bytes.equals(forgottenMarker)) return null;
  try {
    return completedFromBytes(bytes);
  } catch {
    return null;
  }
}

/** Options of {@link MemoryReplayCache}. */
export interface MemoryReplayCacheOptions {
  /**
   * The most response bytes held; past it the oldest entries go first.
   * @default 67_108_864 (64 MiB)
   */
  readonly maxBytes?: number;
  /**
   * The time entries expire by.
   * @default systemClock
   */
  readonly clock?: Pick<Clock, 'now'>;
}

interface Entry extends CachedCompletion {
  readonly expiresAt: number;
  readonly bytes: number;
  /** A dropped response's marker (see {@link ReplayCache.delete}): read as a miss. */
  readonly forgotten?: true;
}

/**
 * Completed responses in this process's memory, in front of a SQL truth on one machine (the
 * embedded default: PGlite): replays never touch the database, and an in-process admission
 * reads the cache in the same synchronous step as the rate limits (`find`).
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxBytes: number;
  private readonly clock: Pick<Clock, 'now'>;
  private bytes = 0;

  constructor(options: MemoryReplayCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? 67_108_864;
    this.clock = options.clock ?? systemClock;
  }

  async get(scope: string): Promise<CachedCompletion | null> {
    return this.read(scope);
  }

  async set(scope: string, completion: CachedCompletion, ttlMs: number): Promise<void> {
    this.keep(scope, {
      ...completion,
      expiresAt: this.clock.now() + ttlMs,
      bytes: completion.response.body.byteLength + 256,
    });
  }

  async refill(scope: string, completion: CachedCompletion, ttlMs: number): Promise<void> {
    const entry = this.entries.get(scope);
    if (entry !== undefined && entry.expiresAt > this.clock.now()) return;
    await this.set(scope, completion, ttlMs);
  }

  async delete(scope: string): Promise<void> {
    // A marker weighs something too, so markers of many forgotten keys are evicted like entries.
    const marker = { fingerprint: '', response: forgottenResponse, forgotten: true as const };
    this.keep(scope, { ...marker, expiresAt: this.clock.now() + FORGOTTEN_MS, bytes: 64 + scope.length });
  }

  /** Puts `entry` in place of whatever `scope` had, then evicts the oldest past `maxBytes`. */
  private keep(scope: string, entry: Entry): void {
    this.drop(scope);
    if (entry.bytes > this.maxBytes) return;
    this.entries.set(scope, entry);
    this.bytes += entry.bytes;
    for (const [oldest] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(oldest);
    }
  }

  /** The admission's synchronous look: `found` for a cached completion, else a miss. */
  find(step: KeyStep): KeyOutcome {
    const cached = this.read(step.scope);
    return cached === null ? missed : { status: 'found', record: completedView(cached) };
  }

  private read(scope: string): CachedCompletion | null {
    const entry = this.entries.get(scope);
    if (entry === undefined) return null;
    if (entry.expiresAt > this.clock.now()) return entry.forgotten ? null : entry;
    this.drop(scope);
    return null;
  }

  private drop(scope: string): void {
    const entry = this.entries.get(scope);
    if (entry === undefined) return;
    this.entries.delete(scope);
    this.bytes -= entry.bytes;
  }
}

const missed: KeyOutcome = { status: 'unknown', missed: true };

/** What a dropped response's marker holds in place of one (never read: see `forgotten`). */
const forgottenResponse: StoredResponse = {
  status: 0,
  headers: [],
  body: new Uint8Array(),
  bodyOmitted: true,
};
