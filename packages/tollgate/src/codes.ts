/**
 * Every stable `code` a {@link TollgateError} carries, in one catalogue and one style:
 * `ERR_<AREA>_<WHAT>`. Match on these, never on `message`. Codes are part of the public API;
 * renaming one is a breaking change listed in the CHANGELOG.
 */
export const ErrorCode = {
  // Configuration: thrown at start, when a policy, route or option cannot work.
  /** A rate-limit policy is malformed (name, limit, window, algorithm) or names repeat. */
  PolicyInvalid: 'ERR_POLICY_INVALID',
  /** A route's policies or idempotency settings cannot be combined. */
  PolicyRoutes: 'ERR_POLICY_ROUTES',
  /** The policy file does not validate; `problems` lists every finding. */
  PolicyFile: 'ERR_POLICY_FILE',
  /** A request's cost is not a positive integer. */
  CostInvalid: 'ERR_COST_INVALID',
  /** A request's cost exceeds a policy's whole limit: it could never be admitted. */
  CostExceedsLimit: 'ERR_COST_EXCEEDS_LIMIT',
  /** An option's value cannot work: a lease or TTL that is not a positive number of ms, an unknown mode… */
  OptionInvalid: 'ERR_OPTION_INVALID',
  /** The migration bookkeeping table name is not a plain lower-case SQL name. */
  MigrateTable: 'ERR_MIGRATE_TABLE',

  // Stores: faults of Redis, PostgreSQL or PGlite, or of a store breaking its contract.
  /** A store call missed its deadline (`storeTimeoutMs`). */
  StoreTimeout: 'ERR_STORE_TIMEOUT',
  /** The store is not connected, so the call was not sent. */
  StoreUnavailable: 'ERR_STORE_UNAVAILABLE',
  /** The store answered something its contract does not allow. */
  StoreReply: 'ERR_STORE_REPLY',

  // Idempotency: a client's mistake, answered by the adapters as a 400 problem+json.
  /** The route requires an `Idempotency-Key` and the request has none. */
  IdempotencyKeyMissing: 'ERR_IDEMPOTENCY_KEY_MISSING',
  /** The header is not a structured-field string or bare token of 16–255 `[A-Za-z0-9_-]`. */
  IdempotencyKeyMalformed: 'ERR_IDEMPOTENCY_KEY_MALFORMED',
  /** Arrays and objects nest deeper than `MAX_JSON_DEPTH`. */
  FingerprintDepth: 'ERR_FINGERPRINT_DEPTH',
  /** A number outside the range of a 64-bit double (`1e400` parses as `Infinity`), or `NaN`. */
  FingerprintNumber: 'ERR_FINGERPRINT_NUMBER',
  /** A value JSON cannot hold: a function, symbol, BigInt, `undefined` in an array, a cycle. */
  FingerprintNotJson: 'ERR_FINGERPRINT_NOT_JSON',

  // Retry client: why it gave up.
  /** Every allowed attempt failed with a retryable outcome. */
  RetryAttemptsExhausted: 'ERR_RETRY_ATTEMPTS_EXHAUSTED',
  /** The deadline passed, or the next wait (backoff or the server's Retry-After) would pass it. */
  RetryDeadlineExceeded: 'ERR_RETRY_DEADLINE_EXCEEDED',
  /** The host's retry budget is spent: retrying now would amplify an outage. */
  RetryBudgetExhausted: 'ERR_RETRY_BUDGET_EXHAUSTED',
  /** The host's circuit breaker is open: no request was sent. */
  RetryCircuitOpen: 'ERR_RETRY_CIRCUIT_OPEN',
  /** The caller's AbortSignal fired. */
  RetryAborted: 'ERR_RETRY_ABORTED',
  /** The request may have been processed and repeating it is unsafe (no key, unsafe method). */
  RetryNotSafe: 'ERR_RETRY_NOT_SAFE',
  /** One attempt took longer than `attemptTimeoutMs` (an attempt's outcome, then retried). */
  RetryAttemptTimeout: 'ERR_RETRY_ATTEMPT_TIMEOUT',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
