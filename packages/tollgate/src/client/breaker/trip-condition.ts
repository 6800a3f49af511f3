/**
 * When failures open a circuit: the breaker reports every call it sees while closed and opens
 * when `failure` says so. One file per implementation: `ConsecutiveFailures`, `FailureRate`.
 */
export interface TripCondition {
  /** A call succeeded while closed; `now` is the client's clock. */
  success(now: number): void;
  /** A call failed while closed; `true` opens the circuit. */
  failure(now: number): boolean;
  /** The circuit closed again after a successful probe: forget the past. */
  reset(): void;
}
