import type { Clock } from '../../clock.ts';
import { ConsecutiveFailures } from './consecutive-failures.ts';
import type { TripCondition } from './trip-condition.ts';

/** Where a circuit is. */
export type BreakerState =
  | { readonly name: 'closed' }
  | { readonly name: 'open'; readonly since: number }
  | { readonly name: 'half-open'; readonly probes: number };

/** `closed`, `open` or `half-open`. */
export type BreakerStateName = BreakerState['name'];

/** How each host's circuit breaker behaves. */
export interface CircuitBreakerOptions {
  /**
   * Makes the trip condition of each host's breaker: {@link ConsecutiveFailures}, `FailureRate`,
   * or your own {@link TripCondition}.
   * @default () => new ConsecutiveFailures(5)
   */
  trip?: () => TripCondition;
  /**
   * How long the circuit stays open before letting probes through, in ms.
   * @default 5_000
   */
  halfOpenAfterMs?: number;
  /**
   * How many probes may be in flight at once while half-open; other calls fail fast.
   * @default 1
   */
  probes?: number;
}

/** A permit to send one call; hand it back with the outcome. */
export interface Admission {
  readonly probe: boolean;
}

/**
 * A circuit breaker: closed → (trip condition says so) → open → (after `halfOpenAfterMs`) →
 * half-open with limited probes → closed on a probe's success, open again on its failure.
 */
export class CircuitBreaker {
  #state: BreakerState = { name: 'closed' };
  readonly #trip: TripCondition;
  readonly #halfOpenAfterMs: number;
  readonly #probes: number;

  constructor(
    options: CircuitBreakerOptions,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly onChange: (from: BreakerStateName, to: BreakerStateName) => void = () => {},
  ) {
    const { trip = () => new ConsecutiveFailures(5), halfOpenAfterMs = 5_000, probes = 1 } = options;
    this.#trip = trip();
    this.#halfOpenAfterMs = halfOpenAfterMs;
    this.#probes = probes;
  }

  /** Where the circuit is now. */
  get state(): BreakerState {
    return this.#state;
  }

  /** A permit for one call, or `undefined` to fail fast. */
  admit(): Admission | undefined {
    const state = this.#state;
    if (state.name === 'closed') return { probe: false };
    if (state.name === 'open') {
      if (this.clock.now() - state.since < this.#halfOpenAfterMs) return undefined;
      this.#move({ name: 'half-open', probes: 1 });
      return { probe: true };
    }
    if (state.probes >= this.#probes) return undefined;
    this.#state = { name: 'half-open', probes: state.probes + 1 };
    return { probe: true };
  }

  /** The call succeeded: counted while closed; a probe's success closes the circuit. */
  success(admission: Admission): void {
    if (this.#state.name === 'closed') this.#trip.success(this.clock.now());
    else if (admission.probe && this.#state.name === 'half-open') {
      this.#trip.reset();
      this.#move({ name: 'closed' });
    }
  }

  /** The call failed: counted while closed (may open the circuit); a probe's failure reopens it. */
  failure(admission: Admission): void {
    if (this.#state.name === 'closed') {
      if (this.#trip.failure(this.clock.now())) this.#move({ name: 'open', since: this.clock.now() });
    } else if (admission.probe && this.#state.name === 'half-open') {
      this.#move({ name: 'open', since: this.clock.now() });
    }
  }

  /** The call ended with no verdict on the host (the caller aborted): free a probe slot. */
  release(admission: Admission): void {
    const state = this.#state;
    if (admission.probe && state.name === 'half-open') {
      this.#state = { name: 'half-open', probes: Math.max(0, state.probes - 1) };
    }
  }

  #move(next: BreakerState): void {
    const from = this.#state.name;
    this.#state = next;
    if (from !== next.name) this.onChange(from, next.name);
  }
}
