import { TollgateError } from '../../errors.ts';
import type { RedisClient } from '../../redis/script.ts';
import type { Verdict } from '../algorithm.ts';
import { type Check, isEnforced, type RateLimitStore } from '../store.ts';
import { type Decision, hashTag, type Mode, scriptCall, verdictsAt } from './redis-script.ts';

export { rateLimitScript } from './redis-script.ts';

export interface RedisStoreOptions {
  /**
   * Prefix of every key this store writes.
   * @default 'tollgate:rl:'
   */
  prefix?: string;
  /**
   * For tests only: a clock to use instead of the Redis server's `TIME`. In production every
   * process must share one clock, and the server's is the only one they all see.
   */
  unsafeTestClock?: () => number;
  /**
   * The most requests one script call decides on a single node (see the class notes).
   * @default 128
   */
  maxBatch?: number;
}

/** The client lost its connection: answer at once instead of queueing behind a reconnect. */
export class StoreUnavailableError extends TollgateError {
  override readonly name = 'StoreUnavailableError';
}

/**
 * Counters in Redis (single node or Cluster), decided by one Lua script per round trip
 * with the server's clock.
 *
 * Keys are `{prefix}{first subject part}{policy}:{subject}`, hash-tagged so every policy that
 * counts the same principal lives in one slot and a request's checks for it run in one
 * atomic script. On a Cluster, checks whose tags differ (a global policy beside a
 * per-principal one) go to their slots in parallel; if any enforcing check is denied, the
 * checks another slot already consumed are refunded. That never over-admits: between the
 * two steps a concurrent request can only see those units as spent.
 *
 * On a single node, the requests that reach the store within one tick of the event loop
 * share one script call: the script decides them one after another, each all-or-nothing
 * and each seeing the writes of those before it, exactly as if they had been sent apart,
 * at a fraction of the round trips. A lone request is sent at the end of its tick.
 */
interface Queued extends Decision {
  resolve(verdicts: Verdict[]): void;
  reject(error: unknown): void;
}

export class RedisRateLimitStore implements RateLimitStore {
  readonly inProcess = false;
  private readonly prefix: string;
  private readonly clock: (() => number) | undefined;
  private readonly cluster: boolean;
  private readonly maxBatch: number;
  private readonly queues: Record<Mode, Queued[]> = { consume: [], peek: [], refund: [] };
  private flushScheduled = false;

  constructor(
    private readonly redis: RedisClient,
    options: RedisStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'tollgate:rl:';
    this.clock = options.unsafeTestClock;
    this.maxBatch = options.maxBatch ?? 128;
    this.cluster = 'nodes' in redis && typeof redis.nodes === 'function';
  }

  async consume(checks: readonly Check[]): Promise<Verdict[]> {
    const groups = this.groups(checks);
    if (groups.length === 1) return this.decide('consume', checks);
    const parts = await Promise.all(groups.map((group) => this.decide('consume', group)));
    const blocked = (g: number) => groups[g]!.some((check, i) => isEnforced(check) && !parts[g]![i]!.allowed);
    if (groups.some((_, g) => blocked(g))) {
      // Every slot that was not blocked itself consumed its admitted checks: give them back.
      await Promise.all(
        groups.map((group, g) =>
          blocked(g)
            ? undefined
            : this.decide(
                'refund',
                group.filter((_, i) => parts[g]![i]!.allowed),
              ),
        ),
      );
    }
    return reorder(checks, groups, parts);
  }

  async peek(checks: readonly Check[]): Promise<Verdict[]> {
    const groups = this.groups(checks);
    const parts = await Promise.all(groups.map((group) => this.decide('peek', group)));
    return reorder(checks, groups, parts);
  }

  async refund(checks: readonly Check[]): Promise<void> {
    await Promise.all(this.groups(checks).map((group) => this.decide('refund', group)));
  }

  /** One group on a single node; one per hash tag on a Cluster. */
  private groups(checks: readonly Check[]): (readonly Check[])[] {
    if (!this.cluster) return [checks];
    const byTag = new Map<string, Check[]>();
    for (const check of checks) {
      const tag = hashTag(check.subject);
      const group = byTag.get(tag);
      if (group) group.push(check);
      else byTag.set(tag, [check]);
    }
    return [...byTag.values()];
  }

  private decide(mode: Mode, checks: readonly Check[]): Promise<Verdict[]> {
    if (checks.length === 0) return Promise.resolve([]);
    if (disconnected.has(this.redis.status)) {
      return Promise.reject(
        new StoreUnavailableError('ERR_STORE_UNAVAILABLE', `redis client is ${this.redis.status}`),
      );
    }
    return new Promise((resolve, reject) => {
      const queued = { checks, resolve, reject };
      // Keys of different slots cannot share a script on a Cluster.
      if (this.cluster) return void this.send(mode, [queued]);
      this.queues[mode].push(queued);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const mode of ['consume', 'peek', 'refund'] as const) {
      const queue = this.queues[mode];
      if (queue.length === 0) continue;
      this.queues[mode] = [];
      let batch: Queued[] = [];
      let checks = 0;
      for (const queued of queue) {
        const full = batch.length === this.maxBatch || checks + queued.checks.length > maxChecksPerCall;
        if (full && batch.length > 0) {
          this.send(mode, batch);
          batch = [];
          checks = 0;
        }
        batch.push(queued);
        checks += queued.checks.length;
      }
      this.send(mode, batch);
    }
  };

  private async send(mode: Mode, batch: readonly Queued[]): Promise<void> {
    try {
      const { script, keys, args } = scriptCall(this.prefix, mode, this.clock?.() ?? 0, batch);
      const reply = (await script.run(this.redis, keys, args)) as number[];
      let index = 0;
      for (const queued of batch) {
        queued.resolve(mode === 'refund' ? [] : verdictsAt(reply, index, queued.checks.length));
        index += queued.checks.length;
      }
    } catch (error) {
      for (const queued of batch) queued.reject(error);
    }
  }
}

/** The script reads all its keys with one MGET, and Lua unpacks at most ~8000 values. */
const maxChecksPerCall = 1024;

/** States in which a command would only queue behind a reconnect that may never come. */
const disconnected = new Set(['reconnecting', 'close', 'end']);

/** Puts per-group verdicts back in the order of the checks. */
function reorder(checks: readonly Check[], groups: (readonly Check[])[], parts: Verdict[][]): Verdict[] {
  if (groups.length === 1) return parts[0]!;
  const byCheck = new Map<Check, Verdict>();
  groups.forEach((group, g) => {
    group.forEach((check, i) => {
      byCheck.set(check, parts[g]![i]!);
    });
  });
  return checks.map((check) => byCheck.get(check)!);
}
