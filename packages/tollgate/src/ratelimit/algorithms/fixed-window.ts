import type { Algorithm } from '../algorithm.ts';

/**
 * Fixed window: at most `limit` units in each window aligned to the epoch
 * (`[k·windowMs, (k+1)·windowMs)`), so every process agrees on the boundaries.
 *
 * State: [windowStart, count].
 */
export const fixedWindow: Algorithm = {
  name: 'fixed-window',
  slots: 2,

  evaluate(state, at, { limit, windowMs }, cost, now, next, nextAt) {
    const start = now - (now % windowMs);
    const count = state[at] === start ? state[at + 1]! : 0;
    const resetMs = start + windowMs - now;
    next[nextAt] = start;
    next[nextAt + 1] = count + cost;
    if (count + cost <= limit) {
      return { allowed: true, remaining: limit - count - cost, resetMs, retryAfterMs: 0 };
    }
    return { allowed: false, remaining: Math.max(0, limit - count), resetMs, retryAfterMs: resetMs };
  },

  refund(state, at, { windowMs }, cost, now) {
    if (state[at] === now - (now % windowMs)) state[at + 1] = Math.max(0, state[at + 1]! - cost);
  },
};
