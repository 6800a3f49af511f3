import type { TripPolicy } from './breaker.ts';

/** Opens the circuit after `threshold` failures in a row; any success starts the count again. */
export class ConsecutiveFailures implements TripPolicy {
  #count = 0;

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
