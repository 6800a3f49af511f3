import { randomUUID } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import type { BreakerStateName, CircuitBreakerOptions } from './breaker/breaker.ts';
import type { RetryBudgetOptions } from './budget.ts';
import type { RetryError } from './errors.ts';
import type { RetryReason } from './policy/decide.ts';

/** Told before each wait for a retry. */
export interface RetryEvent {
  readonly url: string;
  readonly method: string;
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly reason: RetryReason;
  /** The wait before the next attempt, in ms. */
  readonly delay: number;
  readonly idempotencyKey: string | undefined;
}

/** Told when a host's circuit changes state. */
export interface BreakerChange {
  /** The origin, e.g. `http://127.0.0.1:8000`. */
  readonly host: string;
  readonly from: BreakerStateName;
  readonly to: BreakerStateName;
}

/** Options of {@link createRetryClient}, each with its default. */
export interface RetryOptions {
  /**
   * Attempts per logical operation, the first included.
   * @default 3
   */
  maxAttempts?: number;
  /**
   * Backoff base in ms: retry n waits a random time in [0, min(maxDelay, baseDelay·2^(n-1))).
   * @default 100
   */
  baseDelay?: number;
  /**
   * Backoff cap in ms. A server's Retry-After may ask for more; the deadline bounds that.
   * @default 10_000
   */
  maxDelay?: number;
  /**
   * Time allowed for a whole logical operation, all attempts and waits included, in ms.
   * @default 30_000
   */
  deadline?: number;
  /**
   * Time allowed for one attempt to get a response head, in ms.
   * @default 10_000
   */
  attemptTimeout?: number;
  /**
   * Methods that get an `Idempotency-Key` (UUID v4) when the caller did not give one.
   * @default ['POST', 'PATCH']
   */
  keyedMethods?: readonly string[];
  /**
   * The per-host retry budget, or `false` for none.
   * @default {} (10 % of requests plus 1 retry per second, over 10 s)
   */
  budget?: RetryBudgetOptions | false;
  /**
   * The per-host circuit breaker, or `false` for none.
   * @default {} (opens after 5 consecutive failures, probes once after 5 s)
   */
  breaker?: CircuitBreakerOptions | false;
  /** A prom-client registry to publish the client's metrics in. prom-client is loaded only then. */
  metrics?: Registry;
  onRetry?: (event: RetryEvent) => void;
  onGiveUp?: (error: RetryError) => void;
  onBreakerChange?: (change: BreakerChange) => void;
  /**
   * The fetch that sends each attempt.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The clock, in ms. Deadlines, HTTP-date Retry-After, budget and breaker windows read it.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Waits `ms`. The client also races it with the caller's signal, so an abort is never late.
   * @default setTimeout from node:timers/promises
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * The random source of jitter, in [0, 1). `seededRandom(seed)` makes runs reproducible.
   * @default Math.random
   */
  random?: () => number;
  /**
   * Makes idempotency keys.
   * @default crypto.randomUUID
   */
  generateKey?: () => string;
}

export type ResolvedOptions = Required<
  Omit<RetryOptions, 'metrics' | 'onRetry' | 'onGiveUp' | 'onBreakerChange'>
> &
  Pick<RetryOptions, 'metrics' | 'onRetry' | 'onGiveUp' | 'onBreakerChange'>;

/** The one place where the defaults of {@link RetryOptions} are applied. */
export function resolveOptions(options: RetryOptions): ResolvedOptions {
  return {
    maxAttempts: 3,
    baseDelay: 100,
    maxDelay: 10_000,
    deadline: 30_000,
    attemptTimeout: 10_000,
    keyedMethods: ['POST', 'PATCH'],
    budget: {},
    breaker: {},
    fetch: (input, init) => globalThis.fetch(input, init),
    now: Date.now,
    sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
    random: Math.random,
    generateKey: randomUUID,
    ...withoutUndefined(options),
  };
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
