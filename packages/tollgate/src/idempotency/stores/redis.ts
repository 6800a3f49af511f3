import { coalesceWrites } from '../../scripting/coalesce-writes.ts';
import type { RedisClient } from '../../scripting/script.ts';
import { RedisScript } from '../../scripting/script.ts';
import { type Checkpoint, type JsonValue, RecordState, type RecordView } from '../record.ts';
import type { ClaimRequest, ClaimResult, Completion, FenceResult, IdempotencyStore } from '../store.ts';
import { responseFromText, responseToText } from './response-codec.ts';

const script = (name: string) => RedisScript.fromFile(new URL(`../lua/${name}.lua`, import.meta.url));
const scripts = {
  claim: script('claim'),
  extend: script('extend'),
  checkpoint: script('checkpoint'),
  complete: script('complete'),
  release: script('release'),
  forget: script('forget'),
};

/** Options of {@link RedisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions {
  readonly redis: RedisClient;
  /**
   * Prepended to every key. Each record is one hash under one key, so every script touches a
   * single key and runs unchanged on Redis Cluster.
   * @default 'tollgate:idem:'
   */
  readonly prefix?: string;
}

type ClaimReply =
  | [1, string, string | null, string | null]
  | [0, RecordState, string, number, number, string | null];

const stale: FenceResult = { ok: false, reason: 'stale-fence' };
const done: FenceResult = { ok: true };

/**
 * Redis as the whole store: one Lua script per primitive, the server's `TIME` for leases,
 * Redis expiry for the TTL (so `sweep` has nothing to do). Exactly-once lasts as long as Redis
 * keeps its data: a restart or failover without persistence forgets claims. Where that matters,
 * use the tiered store (PostgreSQL truth, Redis replays).
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly redis: RedisClient;
  readonly prefix: string;

  constructor(options: RedisIdempotencyStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? 'tollgate:idem:';
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const reply = (await scripts.claim.run(
      this.redis,
      [this.prefix + request.scope],
      [request.fingerprint, request.leaseMs, request.ttlMs],
    )) as ClaimReply;
    if (reply[0] === 1) {
      const [, fence, name, data] = reply;
      const checkpoint: Checkpoint | null =
        name === null ? null : { name, data: JSON.parse(data!) as JsonValue };
      return { claimed: true, fence: Number(fence), checkpoint };
    }
    const [, state, fingerprint, leaseRemainingMs, expiresInMs, response] = reply;
    return {
      claimed: false,
      record: {
        state,
        fingerprint,
        leaseRemainingMs,
        expiresInMs,
        response: response === null ? null : responseFromText(response),
      },
    };
  }

  /**
   * The completed record of `scope`, or null: one `HMGET`, never a claim (Redis expires a
   * record at the end of its TTL, so a completed one that is still there still replays).
   */
  async lookup(scope: string): Promise<RecordView | null> {
    coalesceWrites(this.redis);
    const [state, fingerprint, response] = await this.redis.hmget(this.prefix + scope, 'st', 'fp', 'resp');
    if (state !== RecordState.Completed || fingerprint === null || response === null) return null;
    return {
      state: RecordState.Completed,
      fingerprint,
      leaseRemainingMs: 0,
      expiresInMs: 1,
      response: responseFromText(response),
    };
  }

  extend(scope: string, fence: number, leaseMs: number): Promise<FenceResult> {
    return this.fenced(scripts.extend, scope, [String(fence), leaseMs]);
  }

  checkpoint(scope: string, fence: number, checkpoint: Checkpoint): Promise<FenceResult> {
    return this.fenced(scripts.checkpoint, scope, [
      String(fence),
      checkpoint.name,
      JSON.stringify(checkpoint.data),
    ]);
  }

  complete({ scope, fence, response, ttlMs }: Completion): Promise<FenceResult> {
    return this.fenced(scripts.complete, scope, [String(fence), responseToText(response), ttlMs]);
  }

  release(scope: string, fence: number): Promise<FenceResult> {
    return this.fenced(scripts.release, scope, [String(fence)]);
  }

  /** Redis deletes expired records itself. */
  async sweep(_limit: number): Promise<number> {
    return 0;
  }

  async forget(scope: string): Promise<boolean> {
    return (await scripts.forget.run(this.redis, [this.prefix + scope], [])) === 1;
  }

  private async fenced(script: RedisScript, scope: string, args: (string | number)[]): Promise<FenceResult> {
    return (await script.run(this.redis, [this.prefix + scope], args)) === 1 ? done : stale;
  }
}
