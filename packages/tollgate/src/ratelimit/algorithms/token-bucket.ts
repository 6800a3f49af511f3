import type { Algorithm, Limits } from '../algorithm.ts';
import { backlogVerdict } from './backlog.ts';

/**
 * Token bucket: `burst` tokens of capacity, refilled at `limit` tokens per window.
 *
 * State: [debt, updatedAt]. `debt` is the number of missing tokens scaled by `windowMs`
 * (so one token = `windowMs`, and each millisecond refills `limit`), all integers.
 */
export const tokenBucket: Algorithm = {
  name: 'token-bucket',
  slots: 2,

  evaluate(state, at, { limit, windowMs, burst }, cost, now, next, nextAt) {
    const debt = Math.max(0, state[at]! - Math.max(0, now - state[at + 1]!) * limit);
    const capacity = burst * windowMs;
    const after = debt + cost * windowMs;
    next[nextAt] = after;
    next[nextAt + 1] = now;
    return backlogVerdict(debt, after, capacity, limit, windowMs);
  },

  refund(state, at, { limit, windowMs }: Limits, cost, now) {
    const debt = Math.max(0, state[at]! - Math.max(0, now - state[at + 1]!) * limit);
    state[at] = Math.max(0, debt - cost * windowMs);
    state[at + 1] = now;
  },
};
