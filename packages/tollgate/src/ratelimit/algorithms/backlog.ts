import { ceilDiv, type Verdict } from '../algorithm.ts';

/**
 * The verdict of the two algorithms that keep a backlog against a capacity: the token
 * bucket's debt and GCRA's distance to its theoretical arrival time. Both count in units of
 * 1/`limit` ms, where one unit of cost weighs `windowMs` and every millisecond drains `limit`,
 * so the request fits when the backlog with it (`after`) is within `capacity`, and every wait
 * is a backlog drained at `limit` per millisecond.
 */
export function backlogVerdict(
  before: number,
  after: number,
  capacity: number,
  limit: number,
  windowMs: number,
): Verdict {
  if (after <= capacity) {
    return {
      allowed: true,
      remaining: Math.floor((capacity - after) / windowMs),
      resetMs: ceilDiv(after, limit),
      retryAfterMs: 0,
    };
  }
  return {
    allowed: false,
    remaining: Math.floor((capacity - before) / windowMs),
    resetMs: ceilDiv(before, limit),
    retryAfterMs: ceilDiv(after - capacity, limit),
  };
}
