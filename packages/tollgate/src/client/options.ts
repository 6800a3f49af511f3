import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { type Clock, systemClock } from '../clock.ts';
import type { BreakerStateName, CircuitBreakerOptions } from './breaker/circuit-breaker.ts';
import type { RetryBudgetOptions } from './budget.ts';
import type { RetryError } from './errors.ts';
import type { RetryReason } from './retry-decision.ts';

/** Told before each wait for a retry. */
export interface RetryEvent {
  readonly url: string;
  readonly method: string;
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly reason: RetryReason;
  /** The wait before the next attempt. */
  readonly delayMs: number;
  readonly idempotencyKey: string | undefined;
}

/** Told when a host's circuit changes state. */
export interface BreakerChange {
  /** The origin, e.g. `http://127.0.0.1:8000`. */
  readonly host: string;
  readonly from: BreakerStateName;
  readonly to: BreakerStateName;
}

/**
 * The numbers a retry client uses when its options leave them out, declared once: the client
 * applies them, and a service that recommends a retry strategy can quote them.
 */
export const retryDefaults = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
  deadlineMs: 30_000,
  attemptTimeoutMs: 10_000,
  keyedMethods: ['POST', 'PATCH'],
} as const satisfies RetryOptions;

/** Options of {@link createRetryClient}, each with its default. */
export interface RetryOptions {
  /**
   * Attempts per logical operation, the first included.
   * @default 3
   */
  maxAttempts?: number;
  /**
   * Backoff base: retry n waits a random time in [0, min(maxDelayMs, baseDelayMs·2^(n-1))).
   * @default 100
   */
  baseDelayMs?: number;
  /**
   * Backoff cap. A server's Retry-After may ask for more; the deadline bounds that.
   * @default 10_000
   */
  maxDelayMs?: number;
  /**
   * Time allowed for a whole logical operation, all attempts and waits included.
   * @default 30_000
   */
  deadlineMs?: number;
  /**
   * Time allowed for one attempt to get a response head.
   * @default 10_000
   */
  attemptTimeoutMs?: number;
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
  /** Called before each wait for a retry. */
  onRetry?: (event: RetryEvent) => void;
  /** Called with the error when the client gives up, before it rejects. */
  onGiveUp?: (error: RetryError) => void;
  /** Called when a host's circuit changes state. */
  onBreakerChange?: (change: BreakerChange) => void;
  /**
   * The fetch that sends each attempt.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The time: deadlines, HTTP-date Retry-After, budget and breaker windows read `now`; backoffs
   * `sleep` (the client also races a sleep with the caller's signal, so an abort is never late).
   * @default systemClock
   */
  clock?: Clock;
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

type Hooks = 'metrics' | 'onRetry' | 'onGiveUp' | 'onBreakerChange';

/** {@link RetryOptions} with every default applied. */
export type ResolvedOptions = Required<Omit<RetryOptions, Hooks>> & Pick<RetryOptions, Hooks>;

/** The one place where the defaults of {@link RetryOptions} are applied. */
export function resolveOptions(options: RetryOptions): ResolvedOptions {
  return {
    ...retryDefaults,
    budget: {},
    breaker: {},
    fetch: (input, init) => globalThis.fetch(input, init),
    clock: systemClock,
    random: Math.random,
    generateKey: randomUUID,
    ...withoutUndefined(options),
  };
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
