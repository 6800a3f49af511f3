/**
 * The application's time, injected so tests control it. Distributed stores never use it for
 * leases or expiry (they use the server's clock); the engine uses it only to bound a wait.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Wall-clock time and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
