import type { Verdict } from './algorithm.ts';
import type { Policy } from './policy.ts';

/** One counter of one request, as a store sees it. */
export interface Check {
  readonly policy: Policy;
  /** The counter within the policy (see `subjectOf`). */
  readonly subject: string;
  readonly cost: number;
}

/**
 * Where counters live. Every method is one atomic step on the store; `consume` is
 * all-or-nothing: when any enforcing check is denied, nothing at all is consumed.
 */
export interface RateLimitStore {
  /**
   * `true` for a store inside this process, which answers before the next tick and so
   * cannot miss a deadline; the limiter guards every call of the others with one.
   */
  readonly inProcess: boolean;
  /** Decides every check at once and consumes them only if no enforcing check is denied. */
  consume(checks: readonly Check[]): Promise<Verdict[]>;
  /** The verdicts `consume` would give, consuming nothing. */
  peek(checks: readonly Check[]): Promise<Verdict[]>;
  /** Gives each check's cost back (never below an empty counter). */
  refund(checks: readonly Check[]): Promise<void>;
}

/**
 * True when an enforcing check was denied, so an all-or-nothing step consumed nothing; a
 * shadow check is counted but never blocks. `verdicts[i]` answers `checks[i]`.
 */
export function isBlocked(checks: readonly Check[], verdicts: readonly Verdict[]): boolean {
  for (let i = 0; i < checks.length; i++) {
    if (!verdicts[i]!.allowed && checks[i]!.policy.mode === 'enforce') return true;
  }
  return false;
}
