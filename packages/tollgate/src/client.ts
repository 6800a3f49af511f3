/**
 * `tollgate/client`: a retry client that is safe (one idempotency key per logical operation),
 * polite (full-jitter backoff that honours Retry-After and RateLimit, a retry budget, a circuit
 * breaker per host) and bounded (attempt timeout, overall deadline, AbortSignal), plus a typed
 * client of the payments API built on it.
 */
export { type Backoff, backoffCeiling, fullJitter, retryDelay, seededRandom } from './client/backoff.ts';
export {
  type Admission,
  type BreakerState,
  type BreakerStateName,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type TripPolicy,
} from './client/breaker/breaker.ts';
export { ConsecutiveFailures } from './client/breaker/consecutive.ts';
export { FailureRate, type FailureRateOptions } from './client/breaker/rate.ts';
export { RetryBudget, type RetryBudgetOptions } from './client/budget.ts';
export {
  type AttemptRecord,
  type AttemptResult,
  PaymentsApiError,
  RetryError,
  RetryErrorCode,
} from './client/errors.ts';
export {
  createRetryClient,
  type RetryClient,
  type RetryRequestInit,
  type RetryResult,
} from './client/fetch.ts';
export { BREAKER_STATE_VALUE } from './client/metrics.ts';
export {
  type BreakerChange,
  type ResolvedOptions,
  type RetryEvent,
  type RetryOptions,
  resolveOptions,
} from './client/options.ts';
export {
  type CallOptions,
  type CreateOptions,
  createPaymentsClient,
  type Payment,
  type PaymentRequest,
  type PaymentsClient,
  type PaymentsClientOptions,
  type PaymentsResult,
} from './client/payments.ts';
export { decide, RETRYABLE_STATUSES, type RetryReason } from './client/policy/decide.ts';
export { rateLimitReset, retryAfter, serverDelay } from './client/retry-after.ts';
