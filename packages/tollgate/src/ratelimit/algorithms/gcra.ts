import type { Algorithm } from '../algorithm.ts';
import { backlogVerdict } from './backlog.ts';

/**
 * GCRA (generic cell rate algorithm, as in redis-cell): one emission every `windowMs / limit`
 * milliseconds, with `burst` emissions of tolerance.
 *
 * State: [tatMs, tatFraction] — the theoretical arrival time, split into whole milliseconds
 * and a remainder in units of 1/limit ms, so the emission interval `windowMs / limit` is
 * added exactly even when it is not a whole number of milliseconds.
 */
export const gcra: Algorithm = {
  name: 'gcra',
  slots: 2,

  evaluate(state, at, { limit, windowMs, burst }, cost, now, next, nextAt) {
    // Everything below is in units of 1/limit ms: one emission interval = windowMs units.
    const backlog = Math.max(0, (state[at]! - now) * limit + state[at + 1]!);
    const tolerance = burst * windowMs;
    const after = backlog + cost * windowMs;
    const whole = Math.floor(after / limit);
    next[nextAt] = now + whole;
    next[nextAt + 1] = after - whole * limit;
    return backlogVerdict(backlog, after, tolerance, limit, windowMs);
  },

  refund(state, at, { limit, windowMs }, cost, now) {
    const backlog = Math.max(0, (state[at]! - now) * limit + state[at + 1]! - cost * windowMs);
    const whole = Math.floor(backlog / limit);
    state[at] = now + whole;
    state[at + 1] = backlog - whole * limit;
  },
};
