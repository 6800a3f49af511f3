import type { TripCondition } from './trip-condition.ts';

/** Opens the circuit after `threshold` failures in a row; any success starts the count again. */
export class ConsecutiveFailures implements TripCondition {
  #count = 0;

  /** @param threshold failures in a row that open the circuit (default 5). */
  constructor(readonly threshold = 5) {}

  success(): void {
    this.#count = 0;
  }

  failure(): boolean {
    this.#count += 1;
    return this.#count >= this.threshold;
  }

  reset(): void {
    this.#count = 0;
  }
}
