/**
 * The contract every rate-limiting algorithm implements.
 *
 * An algorithm is a pure function of a key's state, the policy's limits, the cost and the
 * time. State is a few integers (`slots` of them); all zeros means "never seen", so a store
 * needs no per-algorithm initialisation. Arithmetic stays in integers (times in whole
 * milliseconds, quantities scaled by the window), which keeps decisions and `retryAfterMs`
 * exact, and identical between this TypeScript and the Lua twin of each algorithm.
 */

/** The numbers an algorithm needs from a policy. */
export interface Limits {
  /** Units admitted per window (the refill per window, for token bucket and GCRA). */
  readonly limit: number;
  /** The window in whole milliseconds. */
  readonly windowMs: number;
  /** How many units may arrive at once (token bucket and GCRA capacity); `limit` elsewhere. */
  readonly burst: number;
}

/** What an algorithm decides for one key. */
export interface Verdict {
  allowed: boolean;
  /** Units still available after this request (when admitted) or now (when denied). */
  remaining: number;
  /** Milliseconds until the key's quota is fully restored. */
  resetMs: number;
  /** When denied: milliseconds until the first instant this request would be admitted; else 0. */
  retryAfterMs: number;
}

/** One rate-limiting algorithm: a pure decision over a key's state (see the notes above). */
export interface Algorithm {
  readonly name: AlgorithmName;
  /** How many numbers of state one key holds. */
  readonly slots: number;
  /**
   * Decides a request of `cost` at `now` for the state in `state[at…]`, and writes the state
   * the key would have if the request were admitted to `next[nextAt…]` (when it is denied,
   * what is written there is unspecified and must not be stored).
   */
  evaluate(
    state: ArrayLike<number>,
    at: number,
    limits: Limits,
    cost: number,
    now: number,
    next: Float64Array,
    nextAt: number,
  ): Verdict;
  /** Gives `cost` back to the state in place (never below empty). */
  refund(state: Float64Array, at: number, limits: Limits, cost: number, now: number): void;
}

/** Every algorithm a policy can name. */
export const algorithmNames = ['token-bucket', 'gcra', 'fixed-window', 'sliding-window'] as const;
/** The name of a rate-limiting algorithm (see {@link algorithmNames}). */
export type AlgorithmName = (typeof algorithmNames)[number];

/** Whole milliseconds, rounded up: a wait is never reported shorter than it is. */
export function ceilDiv(numerator: number, denominator: number): number {
  return Math.ceil(numerator / denominator);
}
