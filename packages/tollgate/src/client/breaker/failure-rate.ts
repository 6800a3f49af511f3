import { RollingCounts } from '../rolling-counts.ts';
import type { TripCondition } from './trip-condition.ts';

/** Options of {@link FailureRate}. */
export interface FailureRateOptions {
  /**
   * The failure ratio, in [0, 1], at or above which the circuit opens.
   * @default 0.5
   */
  threshold?: number;
  /**
   * The window over which calls are counted, in ms.
   * @default 10_000
   */
  windowMs?: number;
  /**
   * Calls needed in the window before the ratio means anything.
   * @default 10
   */
  minimumCalls?: number;
}

/** Opens the circuit when failures reach `threshold` of at least `minimumCalls` calls in `windowMs`. */
export class FailureRate implements TripCondition {
  readonly #threshold: number;
  readonly #minimumCalls: number;
  readonly #calls: RollingCounts<'successes' | 'failures'>;

  constructor({ threshold = 0.5, windowMs = 10_000, minimumCalls = 10 }: FailureRateOptions = {}) {
    this.#threshold = threshold;
    this.#minimumCalls = minimumCalls;
    this.#calls = new RollingCounts(['successes', 'failures'], windowMs);
  }

  success(now: number): void {
    this.#calls.add(now, 'successes');
  }

  failure(now: number): boolean {
    this.#calls.add(now, 'failures');
    const { successes, failures } = this.#calls.totals(now);
    const calls = successes + failures;
    return calls >= this.#minimumCalls && failures / calls >= this.#threshold;
  }

  reset(): void {
    this.#calls.clear();
  }
}
