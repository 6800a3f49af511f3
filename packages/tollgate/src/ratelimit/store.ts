import type { Verdict } from './algorithm.ts';
import type { Counter } from './policy.ts';

/** One counter of one request, as a store sees it. */
export interface Check extends Counter {
  readonly cost: number;
}

/**
 * Where counters live. Every method is one atomic step on the store; `consume` is
 * all-or-nothing: when any enforcing check is denied, nothing at all is consumed.
 */
export interface RateLimitStore {
  /** Decides every check at once and consumes them only if no enforcing check is denied. */
  consume(checks: readonly Check[]): Promise<Verdict[]>;
  /** The verdicts `consume` would give, consuming nothing. */
  peek(checks: readonly Check[]): Promise<Verdict[]>;
  /** Gives each check's cost back (never below an empty counter). */
  refund(checks: readonly Check[]): Promise<void>;
}

/** An enforcing check blocks the others; a shadow one is counted but never blocks. */
export function isEnforced(check: Check): boolean {
  return check.policy.mode === 'enforce';
}
