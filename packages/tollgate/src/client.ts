/**
 * `tollgate/client`: a retry client that is safe (one idempotency key per logical operation),
 * polite (full-jitter backoff that honours Retry-After and RateLimit, a retry budget, a circuit
 * breaker per host) and bounded (attempt timeout, overall deadline, AbortSignal).
 */
export { seededRandom } from './client/backoff.ts';
export type { BreakerStateName, CircuitBreakerOptions } from './client/breaker/circuit-breaker.ts';
export { ConsecutiveFailures } from './client/breaker/consecutive-failures.ts';
export { FailureRate, type FailureRateOptions } from './client/breaker/failure-rate.ts';
export type { TripCondition } from './client/breaker/trip-condition.ts';
export type { RetryBudgetOptions } from './client/budget.ts';
export { type AttemptRecord, type AttemptResult, RetryError, type RetryErrorCode } from './client/errors.ts';
export {
  createRetryClient,
  type RetryClient,
  type RetryRequestInit,
  type RetryResult,
} from './client/fetch.ts';
export { type BreakerChange, type RetryEvent, type RetryOptions, retryDefaults } from './client/options.ts';
export { RETRYABLE_STATUSES, type RetryReason } from './client/retry-decision.ts';
