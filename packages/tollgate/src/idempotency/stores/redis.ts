import { ErrorCode } from '../../codes.ts';
import { Deadline, StoreTimeoutError } from '../../deadline.ts';
import { TollgateError } from '../../errors.ts';
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
  /**
   * How long a call may wait for Redis, in ms; past it the call fails with `StoreTimeoutError`
   * (the adapters answer 503), so no request hangs on a Redis that stopped answering. A claim
   * that Redis makes after its caller gave up is released as soon as its reply comes.
   * @default 1000
   */
  readonly timeoutMs?: number;
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
  private readonly deadline: Deadline;

  constructor(options: RedisIdempotencyStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? 'tollgate:idem:';
    const timeoutMs = options.timeoutMs ?? 1000;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 2_147_483_647) {
      throw new TollgateError(
        ErrorCode.OptionInvalid,
        `timeoutMs must be an integer from 1 to 2147483647; got ${String(options.timeoutMs)}`,
      );
    }
    this.deadline = new Deadline(timeoutMs);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const work = scripts.claim.run(
      this.redis,
      [this.prefix + request.scope],
      [request.fingerprint, request.leaseMs, request.ttlMs],
    ) as Promise<ClaimReply>;
    let reply: ClaimReply;
    try {
      reply = await this.deadline.guard(work);
    } catch (error) {
      if (error instanceof StoreTimeoutError) this.releaseLateClaim(request.scope, work);
      throw error;
    }
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
    const [state, fingerprint, response] = await this.deadline.guard(
      this.redis.hmget(this.prefix + scope, 'st', 'fp', 'resp'),
    );
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

  async forget(scope: string, fence?: number): Promise<boolean> {
    const args = [fence === undefined ? '' : String(fence)];
    return (await this.deadline.guard(scripts.forget.run(this.redis, [this.prefix + scope], args))) === 1;
  }

  /**
   * A claim whose caller gave up waiting (it answered 503) may still be made when Redis wakes:
   * nobody will run or complete it, so it is released once its reply comes, rather than
   * holding the key (409 to every retry) until its lease ends.
   */
  private releaseLateClaim(scope: string, work: Promise<ClaimReply>): void {
    work
      .then((late) => (late[0] === 1 ? this.release(scope, Number(late[1])) : undefined))
      .catch(() => undefined); // Redis still away: the lease frees the key.
  }

  private async fenced(script: RedisScript, scope: string, args: (string | number)[]): Promise<FenceResult> {
    const reply = await this.deadline.guard(script.run(this.redis, [this.prefix + scope], args));
    return reply === 1 ? done : stale;
  }
}
