import { readFileSync } from 'node:fs';
import { TollgateError } from '../../errors.ts';
import { type RedisClient, RedisScript } from '../../redis/script.ts';
import { type AlgorithmName, algorithmNames, type Verdict } from '../algorithm.ts';
import type { Policy } from '../policy.ts';
import { type Check, isEnforced, type RateLimitStore } from '../store.ts';

const lua = (file: string) => readFileSync(new URL(`../lua/${file}`, import.meta.url), 'utf8');

const driver = lua('ratelimit.lua');
const twins = new Map(algorithmNames.map((name) => [name, lua(`${name}.lua`)]));
const scripts = new Map<string, RedisScript>();

/**
 * The Lua program for a set of algorithms: their twins, then the all-or-nothing driver.
 * Redis runs a script's whole body on every call, so each set gets a script of its own
 * that defines only what it uses; each is built once per process.
 */
export function rateLimitScript(algorithms: readonly AlgorithmName[]): RedisScript {
  const names = algorithmNames.filter((name) => algorithms.includes(name));
  const id = names.join('+');
  let script = scripts.get(id);
  if (!script) {
    const source = [
      'local algorithms = {}',
      `local algorithmNames = { ${algorithmNames.map((name) => `'${name}'`).join(', ')} }`,
      ...names.map((name) => twins.get(name)!),
      driver,
    ].join('\n');
    script = new RedisScript(`ratelimit(${id}).lua`, source);
    scripts.set(id, script);
  }
  return script;
}

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
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly inProcess = false;
  private readonly prefix: string;
  private readonly clock: (() => number) | undefined;
  private readonly cluster: boolean;

  constructor(
    private readonly redis: RedisClient,
    options: RedisStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'tollgate:rl:';
    this.clock = options.unsafeTestClock;
    this.cluster = 'nodes' in redis && typeof redis.nodes === 'function';
  }

  async consume(checks: readonly Check[]): Promise<Verdict[]> {
    const groups = this.groups(checks);
    if (groups.length === 1) return this.run('consume', checks);
    const parts = await Promise.all(groups.map((group) => this.run('consume', group)));
    const blocked = (g: number) => groups[g]!.some((check, i) => isEnforced(check) && !parts[g]![i]!.allowed);
    if (groups.some((_, g) => blocked(g))) {
      // Every slot that was not blocked itself consumed its admitted checks: give them back.
      await Promise.all(
        groups.map((group, g) =>
          blocked(g)
            ? undefined
            : this.run(
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
    const parts = await Promise.all(groups.map((group) => this.run('peek', group)));
    return reorder(checks, groups, parts);
  }

  async refund(checks: readonly Check[]): Promise<void> {
    await Promise.all(this.groups(checks).map((group) => this.run('refund', group)));
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

  private async run(mode: 'consume' | 'peek' | 'refund', checks: readonly Check[]): Promise<Verdict[]> {
    if (checks.length === 0) return [];
    if (disconnected.has(this.redis.status)) {
      throw new StoreUnavailableError('ERR_STORE_UNAVAILABLE', `redis client is ${this.redis.status}`);
    }
    const keys: string[] = [];
    const args = [`${modes[mode]} ${this.clock?.() ?? 0}`];
    for (const { subject, policy, cost } of checks) {
      keys.push(`${this.prefix}{${hashTag(subject)}}${policy.name}:${subject}`);
      args.push(`${policyArgument(policy)} ${cost}`);
    }
    const script = rateLimitScript(checks.map((check) => check.policy.algorithm));
    const reply = (await script.run(this.redis, keys, args)) as number[];
    if (mode === 'refund') return [];
    return checks.map((_, i) => {
      const at = 1 + i * 4;
      return {
        allowed: reply[at] === 1,
        remaining: reply[at + 1]!,
        resetMs: reply[at + 2]!,
        retryAfterMs: reply[at + 3]!,
      };
    });
  }
}

/**
 * The subject's first part: every policy counting the same principal (alone, or with a
 * route) shares it, so their keys land in one Cluster slot and one script decides them.
 */
function hashTag(subject: string): string {
  const end = subject.indexOf('|');
  return end === -1 ? subject : subject.slice(0, end);
}

const modes = { consume: 1, peek: 2, refund: 3 } as const;

const policyArguments = new WeakMap<Policy, string>();

/** "algorithm limit windowMs burst enforce", the part of a check's argument fixed by its policy. */
function policyArgument(policy: Policy): string {
  let argument = policyArguments.get(policy);
  if (argument === undefined) {
    const algorithm = algorithmNames.indexOf(policy.algorithm) + 1;
    const enforce = policy.mode === 'enforce' ? 1 : 0;
    argument = `${algorithm} ${policy.limit} ${policy.windowMs} ${policy.burst} ${enforce}`;
    policyArguments.set(policy, argument);
  }
  return argument;
}

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
