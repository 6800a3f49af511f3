/** The two numbers of exponential backoff. */
export interface Backoff {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the wait before retry
 * `retry` (1 for the first retry) is uniform in [0, min(maxDelayMs, baseDelayMs · 2^(retry-1))).
 * Spreading the whole interval is what breaks up a thundering herd.
 */
export function fullJitter(retry: number, backoff: Backoff, random: () => number): number {
  return random() * backoffCeiling(retry, backoff);
}

/** The upper end of the jitter interval for retry `retry`. */
export function backoffCeiling(retry: number, { baseDelayMs, maxDelayMs }: Backoff): number {
  // 2 ** 1100 is Infinity, which Math.min handles; negative exponents cannot occur for retry ≥ 1.
  return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, retry - 1));
}

/**
 * The wait before a retry: the jittered backoff, but never earlier than the server asked for
 * (`serverDelayMs`, from Retry-After or RateLimit).
 */
export function retryDelay(
  retry: number,
  backoff: Backoff,
  random: () => number,
  serverDelayMs: number | undefined,
): number {
  return Math.max(fullJitter(retry, backoff, random), serverDelayMs ?? 0);
}

/**
 * A small seedable random source (mulberry32) in [0, 1), for reproducible jitter in tests
 * and benchmarks. Not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
