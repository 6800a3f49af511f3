import { type Algorithm, ceilDiv } from '../algorithm.ts';

/**
 * Sliding-window counter (Cloudflare's approximation): the previous aligned window's count,
 * weighted by how much of it still overlaps the sliding window, plus the current window's
 * count, may not exceed `limit`. Two integers per key instead of a log of timestamps.
 * Promise: at most `limit` in every aligned window, and the weighted estimate never exceeds
 * `limit`; a burst at the very end of one window and the start of the next can still put up
 * to `2·limit` into one unaligned window-length span.
 *
 * State: [windowStart, previousCount, currentCount]. Comparisons are multiplied through
 * by `windowMs` so they stay in integers.
 */
export const slidingWindow: Algorithm = {
  name: 'sliding-window',
  slots: 3,

  evaluate(state, at, { limit, windowMs }, cost, now, next, nextAt) {
    const start = now - (now % windowMs);
    const [previous, current] = counts(state, at, start, windowMs);
    const elapsed = now - start;
    const capacity = limit * windowMs;
    const used = previous * (windowMs - elapsed) + current * windowMs;
    next[nextAt] = start;
    next[nextAt + 1] = previous;
    next[nextAt + 2] = current + cost;
    if (used + cost * windowMs <= capacity) {
      const after = used + cost * windowMs;
      return {
        allowed: true,
        remaining: Math.floor((capacity - after) / windowMs),
        resetMs: resetMs(previous, current + cost, elapsed, windowMs),
        retryAfterMs: 0,
      };
    }
    return {
      allowed: false,
      remaining: Math.max(0, Math.floor((capacity - used) / windowMs)),
      resetMs: resetMs(previous, current, elapsed, windowMs),
      retryAfterMs: waitMs(previous, current, elapsed, limit, windowMs, cost),
    };
  },

  refund(state, at, { windowMs }, cost, now) {
    if (state[at] === now - (now % windowMs)) state[at + 2] = Math.max(0, state[at + 2]! - cost);
  },
};

function counts(state: ArrayLike<number>, at: number, start: number, windowMs: number): [number, number] {
  if (state[at] === start) return [state[at + 1]!, state[at + 2]!];
  if (state[at] === start - windowMs) return [state[at + 2]!, 0];
  return [0, 0];
}

/** Until the current window's count no longer weighs: the end of the next window. */
function resetMs(previous: number, current: number, elapsed: number, windowMs: number): number {
  if (current > 0) return 2 * windowMs - elapsed;
  return previous > 0 ? windowMs - elapsed : 0;
}

/**
 * The first elapsed time at which `cost` fits: later in this window as the previous count's
 * weight decays, or else in the next window, where today's count becomes the previous one.
 */
function waitMs(
  previous: number,
  current: number,
  elapsed: number,
  limit: number,
  windowMs: number,
  cost: number,
) {
  const spare = limit - current - cost;
  if (spare >= 0 && previous > 0) {
    // previous·(windowMs − e) ≤ spare·windowMs  ⇔  e ≥ windowMs − spare·windowMs / previous
    const at = Math.max(elapsed, ceilDiv(previous * windowMs - spare * windowMs, previous));
    if (at < windowMs) return at - elapsed;
  }
  // Next window: current·(windowMs − e) + cost·windowMs ≤ limit·windowMs.
  const at = current > 0 ? Math.max(0, ceilDiv(current * windowMs - (limit - cost) * windowMs, current)) : 0;
  return windowMs - elapsed + at;
}
