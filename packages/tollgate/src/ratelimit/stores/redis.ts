import type { Clock } from '../../clock.ts';
import { ErrorCode } from '../../codes.ts';
import { TollgateError } from '../../errors.ts';
import { type Participant, twoPhase } from '../../scripting/cross-slot.ts';
import type { RedisClient } from '../../scripting/script.ts';
import type { Verdict } from '../algorithm.ts';
import type { Check, RateLimitStore } from '../store.ts';
import {
  type AdmissionDecision,
  type AdmissionReply,
  admissionCall,
  admissionReplies,
  type Decision,
  hashTag,
  type Mode,
  scriptCall,
  verdictsAt,
} from './redis-script.ts';

/** Options of {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** The client (a single node or a Cluster) the counters live on. */
  redis: RedisClient;
  /**
   * Prefix of every key this store writes.
   * @default 'tollgate:rl:'
   */
  prefix?: string;
  /**
   * For tests only: a clock to use instead of the Redis server's `TIME`. In production every
   * process must share one clock, and the server's is the only one they all see.
   */
  unsafeTestClock?: Pick<Clock, 'now'>;
  /**
   * For tests only: awaited on a Cluster before the second phase of a request whose checks
   * span slots (the cancel of what other slots consumed), to delay it as a slow network would;
   * a rejection stands for a second phase that never arrives.
   */
  unsafeBeforeSecondPhase?: () => Promise<void>;
  /**
   * The most requests one script call decides on a single node (see the class notes).
   * @default 128
   */
  maxBatch?: number;
}

/** The client lost its connection: answer at once instead of queueing behind a reconnect. */
export class StoreUnavailableError extends TollgateError {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.StoreUnavailable, message, options);
  }
}

type Kind = Mode | 'admit';

interface Queued {
  readonly decision: Decision | AdmissionDecision;
  readonly size: number;
  /** Answer `{ now, verdicts }` rather than the verdicts alone. */
  readonly timed: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Counters in Redis (single node or Cluster), decided by one Lua script per round trip
 * with the server's clock.
 *
 * Keys are `{prefix}{first subject part}{policy}:{subject}`, hash-tagged so every policy that
 * counts the same principal lives in one slot and a request's checks for it run in one
 * atomic script. On a Cluster, checks whose tags differ (a global policy beside a
 * per-principal one) are decided in two phases (see `scripting/cross-slot.ts`): each slot consumes
 * all-or-nothing at once, and when any enforcing check was denied, the slots that consumed
 * give back only what is left of their units by then. A concurrent request can only see those
 * units as spent, so the Cluster never admits more than one node would.
 *
 * On a single node, the requests that reach the store within one tick of the event loop
 * share one script call: the script decides them one after another, each all-or-nothing
 * and each seeing the writes of those before it, exactly as if they had been sent apart,
 * at a fraction of the round trips. A lone request is sent at the end of its tick.
 * {@link RedisAdmissionStore} uses the same calls for admissions.
 *
 * @example
 * const store = new RedisRateLimitStore({ redis: new Redis(process.env.REDIS_URL), prefix: 'myapp:rl:' });
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly inProcess = false;
  /** @internal The client, shared with the admission store. */
  readonly redis: RedisClient;
  /** @internal */
  readonly prefix: string;
  /** @internal True on a Cluster client: no batching, and two phases across slots. */
  readonly cluster: boolean;
  /** @internal */
  readonly beforeSecondPhase: (() => Promise<void>) | undefined;
  private readonly clock: Pick<Clock, 'now'> | undefined;
  private readonly maxBatch: number;
  private readonly queues: Record<Kind, Queued[]> = { consume: [], peek: [], refund: [], admit: [] };
  private flushScheduled = false;

  constructor(options: RedisRateLimitStoreOptions) {
    const { redis } = options;
    this.redis = redis;
    this.prefix = options.prefix ?? 'tollgate:rl:';
    this.clock = options.unsafeTestClock;
    this.beforeSecondPhase = options.unsafeBeforeSecondPhase;
    this.maxBatch = options.maxBatch ?? 128;
    this.cluster = 'nodes' in redis && typeof redis.nodes === 'function';
  }

  consume(checks: readonly Check[]): Promise<Verdict[]> {
    // The hot path on a single node: one queued step, no wrapper.
    if (!this.cluster) return this.verdicts('consume', checks);
    return this.consumeTimed(checks).then(({ verdicts }) => verdicts);
  }

  /**
   * @internal `consume`, with the script instant at which each check was consumed (for a
   * later exact {@link cancel}).
   */
  async consumeTimed(checks: readonly Check[]): Promise<{ verdicts: Verdict[]; at: number[] }> {
    const groups = this.groups(checks);
    if (groups.length === 1) {
      const { now, verdicts } = await this.decide('consume', { checks });
      return { verdicts, at: checks.map(() => now) };
    }
    const times = new Map<Check, number>();
    const participants = groups.map(
      (group): Participant => ({
        checks: group,
        first: async () => {
          const decided = await this.decide('consume', { checks: group });
          for (const check of group) times.set(check, decided.now);
          return decided;
        },
        cancel: (now, verdicts) =>
          this.decide('refund', { checks: group.filter((_, i) => verdicts[i]!.allowed), consumedAt: now }),
      }),
    );
    const parts = await twoPhase(participants, this.beforeSecondPhase);
    return { verdicts: reorder(checks, groups, parts), at: checks.map((check) => times.get(check) ?? 0) };
  }

  /**
   * @internal Gives back what is left now of `checks`, consumed at the instants `at` (see
   * `scripting/cross-slot.ts`): never more than is still owed.
   */
  async cancel(checks: readonly Check[], at: readonly number[]): Promise<void> {
    const byInstant = new Map<number, Check[]>();
    checks.forEach((check, i) => {
      const same = byInstant.get(at[i]!);
      if (same) same.push(check);
      else byInstant.set(at[i]!, [check]);
    });
    const calls: Promise<unknown>[] = [];
    for (const [consumedAt, same] of byInstant) {
      for (const group of this.groups(same)) calls.push(this.decide('refund', { checks: group, consumedAt }));
    }
    await Promise.all(calls);
  }

  async peek(checks: readonly Check[]): Promise<Verdict[]> {
    if (!this.cluster) return this.verdicts('peek', checks);
    const groups = this.groups(checks);
    const parts = await Promise.all(
      groups.map(async (group) => (await this.decide('peek', { checks: group })).verdicts),
    );
    return reorder(checks, groups, parts);
  }

  async refund(checks: readonly Check[]): Promise<void> {
    await Promise.all(this.groups(checks).map((group) => this.decide('refund', { checks: group })));
  }

  /** @internal One group on a single node; one per hash tag on a Cluster. */
  groups(checks: readonly Check[]): (readonly Check[])[] {
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

  /** @internal One script step of checks in one slot, with the script's clock. */
  decide(mode: Mode, decision: Decision): Promise<{ now: number; verdicts: Verdict[] }> {
    if (decision.checks.length === 0) return Promise.resolve({ now: 0, verdicts: [] });
    return this.enqueue(mode, decision, decision.checks.length, true);
  }

  /** One script step of checks on a single node, answering only the verdicts. */
  private verdicts(mode: Mode, checks: readonly Check[]): Promise<Verdict[]> {
    if (checks.length === 0) return Promise.resolve([]);
    return this.enqueue(mode, { checks }, checks.length, false);
  }

  /** @internal One admission in one script step (its keys must share a slot on a Cluster). */
  admit(decision: AdmissionDecision): Promise<AdmissionReply> {
    return this.enqueue(
      'admit',
      decision,
      decision.requestChecks.length + decision.operationChecks.length + 1,
      false,
    );
  }

  private enqueue<T>(
    kind: Kind,
    decision: Decision | AdmissionDecision,
    size: number,
    timed: boolean,
  ): Promise<T> {
    if (disconnected.has(this.redis.status)) {
      return Promise.reject(new StoreUnavailableError(`redis client is ${this.redis.status}`));
    }
    return new Promise((resolve, reject) => {
      const queued: Queued = { decision, size, timed, resolve: resolve as (value: unknown) => void, reject };
      // Keys of different slots cannot share a script on a Cluster.
      if (this.cluster) return void this.send(kind, [queued]);
      this.queues[kind].push(queued);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const kind of kinds) {
      const queue = this.queues[kind];
      if (queue.length === 0) continue;
      this.queues[kind] = [];
      let batch: Queued[] = [];
      let size = 0;
      for (const queued of queue) {
        const full = batch.length === this.maxBatch || size + queued.size > maxChecksPerCall;
        if (full && batch.length > 0) {
          this.send(kind, batch);
          batch = [];
          size = 0;
        }
        batch.push(queued);
        size += queued.size;
      }
      this.send(kind, batch);
    }
  };

  private async send(kind: Kind, batch: readonly Queued[]): Promise<void> {
    try {
      const clock = this.clock?.now() ?? 0;
      if (kind === 'admit') {
        const decisions = batch.map((queued) => queued.decision as AdmissionDecision);
        const { script, keys, args } = admissionCall(this.prefix, clock, decisions);
        const replies = admissionReplies(
          (await script.runBuffer(this.redis, keys, args)) as unknown[],
          decisions,
        );
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(replies[i]);
        return;
      }
      const { script, keys, args } = scriptCall(
        this.prefix,
        kind,
        clock,
        batch.map((queued) => queued.decision as Decision),
      );
      const reply = (await script.run(this.redis, keys, args)) as number[];
      const now = reply[0]!;
      let index = 0;
      for (const queued of batch) {
        const verdicts = kind === 'refund' ? [] : verdictsAt(reply, index, queued.size);
        queued.resolve(queued.timed ? { now, verdicts } : verdicts);
        index += queued.size;
      }
    } catch (error) {
      for (const queued of batch) queued.reject(error);
    }
  }
}

const kinds = ['consume', 'peek', 'refund', 'admit'] as const;

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
