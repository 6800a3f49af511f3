import { setTimeout as sleepFor } from 'node:timers/promises';

/**
 * The application's time, injected so tests control it: the one clock type of the rate
 * limiter, the idempotency engine and the retry client. Distributed stores never use it for
 * leases or expiry (they use the server's clock). A part that only reads the time takes
 * `Pick<Clock, 'now'>`, so a test can pass `{ now: () => t }`.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds, or rejects with `signal.reason` when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wall-clock time and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
};
