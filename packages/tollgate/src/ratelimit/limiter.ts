import { ErrorCode } from '../codes.ts';
import { DEFAULT_STORE_TIMEOUT_MS, Deadline } from '../deadline.ts';
import { TollgateError } from '../errors.ts';
import type { Verdict } from './algorithm.ts';
import {
  DEFAULT_COST,
  definePolicy,
  type Policy,
  type PolicyOptions,
  type RequestFacts,
  subjectOf,
} from './policy.ts';
import { type Check, isBlocked, type RateLimitStore } from './store.ts';
import { MemoryRateLimitStore } from './stores/memory.ts';

/** One policy's part of a decision. */
export interface PolicyResult {
  /** The policy's name. */
  readonly name: string;
  /** Units admitted per window. */
  readonly limit: number;
  /** The policy's window, in seconds. */
  readonly windowSeconds: number;
  /** This policy alone would admit the request. */
  readonly allowed: boolean;
  /** Units left once this call is done: after consuming (an admitted `check`), else now. */
  readonly remaining: number;
  /** Whole seconds until the quota is fully restored. */
  readonly resetSeconds: number;
  /** Whole seconds until this policy would admit the request; 0 when it does. */
  readonly retryAfterSeconds: number;
  /** A dry-run policy: reported, never enforced. */
  readonly shadow: boolean;
}

/** A limiter's answer. Being limited is a result, never an exception. */
export interface RateLimitResult {
  /** Every enforcing policy that applies admitted the request (and it was counted). */
  readonly allowed: boolean;
  /**
   * `allowed` / `limited`: the policies decided. `store-unavailable`: the store failed or
   * missed its deadline and each policy's `onStoreError` decided (open admits, closed rejects).
   */
  readonly reason: 'allowed' | 'limited' | 'store-unavailable';
  /**
   * Whole seconds until the first instant every enforcing policy admits this request
   * (never earlier than the truth); 0 when allowed.
   */
  readonly retryAfterSeconds: number;
  /** One entry per policy that applied to the request. */
  readonly policies: readonly PolicyResult[];
}

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /**
   * Where counters live: `MemoryRateLimitStore`, `RedisRateLimitStore` or your own.
   * @default a new MemoryRateLimitStore (this process only)
   */
  store?: RateLimitStore;
  /** Policies checked together, all-or-nothing. Names must be unique. */
  policies: readonly (Policy | PolicyOptions)[];
  /**
   * Deadline for every store call, in milliseconds.
   * @default 100
   */
  storeTimeoutMs?: number;
  /** Called when a store call fails or times out (log it, count it); the decision goes on. */
  onStoreError?: (error: unknown) => void;
}

/** A store that answers in time but not sensibly is a fault, not a decision. */
export class StoreReplyError extends TollgateError {
  override readonly name = 'StoreReplyError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.StoreReply, message, options);
  }
}

/**
 * Checks every policy that applies to a request at once: if any enforcing policy denies,
 * none is consumed.
 *
 * @example
 * const limiter = new RateLimiter({
 *   store: new MemoryRateLimitStore(),
 *   policies: [{ name: 'per-user', algorithm: 'sliding-window', limit: 100, windowSeconds: 60, subject: ['principal'] }],
 * });
 * const result = await limiter.check({ principal: 'acct_1' });
 * if (!result.allowed) reply.code(429).headers(rateLimitHeaders(result));
 */
export class RateLimiter {
  readonly policies: readonly Policy[];
  private readonly store: RateLimitStore;
  /** The store, when it can decide synchronously in this process. */
  private readonly local: MemoryRateLimitStore | undefined;
  private readonly deadline: Deadline;
  private readonly onStoreError: ((error: unknown) => void) | undefined;

  constructor(options: RateLimiterOptions) {
    // Left out (a JavaScript caller), the limits still hold, in this process.
    this.store = options.store ?? new MemoryRateLimitStore();
    this.local = this.store instanceof MemoryRateLimitStore ? this.store : undefined;
    this.deadline = new Deadline(options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS);
    this.onStoreError = options.onStoreError;
    this.policies = options.policies.map((policy) => ('windowMs' in policy ? policy : definePolicy(policy)));
    const names = new Set(this.policies.map((policy) => policy.name));
    if (names.size !== this.policies.length) {
      throw new TollgateError(ErrorCode.PolicyInvalid, 'policy names must be unique within a limiter');
    }
  }

  /** Decides and, when admitted, consumes `cost` (default 1) from every applicable policy. */
  check(facts: RequestFacts, options?: { cost?: number }): Promise<RateLimitResult> {
    if (this.local !== undefined) return this.decideInProcess(this.local, facts, options?.cost, 'consume');
    return this.run(facts, options?.cost ?? DEFAULT_COST, true, (checks) => this.store.consume(checks));
  }

  /** The decision `check` would make now, consuming nothing (for a "my limits" endpoint). */
  peek(facts: RequestFacts, options?: { cost?: number }): Promise<RateLimitResult> {
    if (this.local !== undefined) return this.decideInProcess(this.local, facts, options?.cost, 'peek');
    return this.run(facts, options?.cost ?? DEFAULT_COST, false, (checks) => this.store.peek(checks));
  }

  /** Gives `cost` back to every applicable policy, e.g. for a request that should not count. */
  async refund(facts: RequestFacts, options: { cost?: number } = {}): Promise<void> {
    const checks = this.checksFor(facts, options.cost ?? DEFAULT_COST);
    if (checks.length > 0) await this.guard(this.store.refund(checks));
  }

  /**
   * The in-process path: the store decides synchronously, so the answer is one settled
   * promise, with no await (and no microtask hop) between the caller and the counters.
   */
  private decideInProcess(
    store: MemoryRateLimitStore,
    facts: RequestFacts,
    cost = DEFAULT_COST,
    mode: 'consume' | 'peek',
  ): Promise<RateLimitResult> {
    let checks: Check[];
    try {
      checks = this.checksFor(facts, cost);
    } catch (error) {
      return Promise.reject(error);
    }
    if (checks.length === 0) return Promise.resolve(nothingApplies());
    let verdicts: Verdict[];
    try {
      verdicts = store.decideNow(checks, mode);
    } catch (error) {
      this.onStoreError?.(error);
      return Promise.resolve(storeUnavailable(checks));
    }
    return Promise.resolve(summarise(checks, verdicts, mode === 'consume'));
  }

  private async run(
    facts: RequestFacts,
    cost: number,
    consuming: boolean,
    call: (checks: readonly Check[]) => Promise<Verdict[]>,
  ): Promise<RateLimitResult> {
    const checks = this.checksFor(facts, cost);
    if (checks.length === 0) return nothingApplies();
    let verdicts: Verdict[];
    try {
      verdicts = await this.guard(call(checks));
      if (verdicts.length !== checks.length) {
        throw new StoreReplyError(`store answered ${verdicts.length} verdicts for ${checks.length}`);
      }
    } catch (error) {
      this.onStoreError?.(error);
      return storeUnavailable(checks);
    }
    return summarise(checks, verdicts, consuming);
  }

  private guard<T>(work: Promise<T>): Promise<T> {
    return this.store.inProcess ? work : this.deadline.guard(work);
  }

  private checksFor(facts: RequestFacts, cost: number): Check[] {
    if (!Number.isSafeInteger(cost) || cost < 1) {
      throw new TollgateError(ErrorCode.CostInvalid, `cost must be a positive integer, got ${cost}`);
    }
    const policies = this.policies;
    // Sized once: pushing onto `[]` would allocate a larger backing store on every call.
    const checks = new Array<Check>(policies.length);
    let applied = 0;
    for (let i = 0; i < policies.length; i++) {
      const policy = policies[i]!;
      const subject = subjectOf(policy, facts);
      if (subject === undefined) continue;
      if (cost > policy.burst) {
        throw new TollgateError(
          ErrorCode.CostExceedsLimit,
          `cost ${cost} can never be admitted by policy "${policy.name}" (capacity ${policy.burst})`,
        );
      }
      checks[applied++] = { policy, subject, cost };
    }
    if (applied < checks.length) checks.length = applied;
    return checks;
  }
}

function nothingApplies(): RateLimitResult {
  return { allowed: true, reason: 'allowed', retryAfterSeconds: 0, policies: [] };
}

function summarise(
  checks: readonly Check[],
  verdicts: readonly Verdict[],
  consuming: boolean,
): RateLimitResult {
  let allowed = true;
  let retryAfterSeconds = 0;
  // All or nothing: a refused request consumed nothing, so every policy reports what is left.
  const consumed = consuming && !isBlocked(checks, verdicts);
  const policies = new Array<PolicyResult>(checks.length);
  for (let i = 0; i < checks.length; i++) {
    const result = policyResult(checks[i]!, verdicts[i]!, consumed);
    if (!result.allowed && !result.shadow) {
      allowed = false;
      retryAfterSeconds = Math.max(retryAfterSeconds, result.retryAfterSeconds);
    }
    policies[i] = result;
  }
  return { allowed, reason: allowed ? 'allowed' : 'limited', retryAfterSeconds, policies };
}

/**
 * One policy's part of a result, from its check's verdict. A verdict's `remaining` assumes
 * the request was admitted: when the check was not `consumed` (a peek, a refused request),
 * the cost is added back, which is exact because costs are whole units in every algorithm.
 */
export function policyResult({ policy, cost }: Check, verdict: Verdict, consumed: boolean): PolicyResult {
  return {
    name: policy.name,
    limit: policy.limit,
    windowSeconds: policy.windowSeconds,
    allowed: verdict.allowed,
    remaining: verdict.allowed && !consumed ? verdict.remaining + cost : verdict.remaining,
    resetSeconds: Math.ceil(verdict.resetMs / 1000),
    retryAfterSeconds: Math.ceil(verdict.retryAfterMs / 1000),
    shadow: policy.mode === 'shadow',
  };
}

/**
 * The result when the store could not be asked: each policy's `onStoreError` decides (open
 * admits, closed refuses); a refusal asks for a retry after one second, the store's state
 * being unknown.
 */
export function storeUnavailable(checks: readonly Check[]): RateLimitResult {
  let allowed = true;
  const policies = checks.map(({ policy }): PolicyResult => {
    const shadow = policy.mode === 'shadow';
    const admits = shadow || policy.onStoreError === 'open';
    if (!admits) allowed = false;
    return {
      name: policy.name,
      limit: policy.limit,
      windowSeconds: policy.windowSeconds,
      allowed: admits,
      remaining: admits ? policy.limit : 0,
      resetSeconds: 0,
      retryAfterSeconds: admits ? 0 : 1,
      shadow,
    };
  });
  return { allowed, reason: 'store-unavailable', retryAfterSeconds: allowed ? 0 : 1, policies };
}
