import { TollgateError } from '../errors.ts';

/** Stable codes of {@link RetryError}: match on these, never on `message`. */
export const RetryErrorCode = {
  /** Every allowed attempt failed with a retryable outcome. */
  attemptsExhausted: 'RETRY_ATTEMPTS_EXHAUSTED',
  /** The deadline passed, or the next wait (backoff or the server's Retry-After) would pass it. */
  deadlineExceeded: 'RETRY_DEADLINE_EXCEEDED',
  /** The host's retry budget is spent: retrying now would amplify an outage. */
  budgetExhausted: 'RETRY_BUDGET_EXHAUSTED',
  /** The host's circuit breaker is open: no request was sent. */
  circuitOpen: 'RETRY_CIRCUIT_OPEN',
  /** The caller's AbortSignal fired. */
  aborted: 'RETRY_ABORTED',
  /** The request may have been processed and repeating it is unsafe (no idempotency key, unsafe method). */
  notSafe: 'RETRY_NOT_SAFE',
} as const;

export type RetryErrorCode = (typeof RetryErrorCode)[keyof typeof RetryErrorCode];

/** What one attempt ended with, as kept in the attempt history. */
export type AttemptResult =
  | { readonly kind: 'response'; readonly status: number }
  | { readonly kind: 'error'; readonly code: string; readonly sent: boolean };

/** One attempt of a logical operation. Times come from the client's injected clock. */
export interface AttemptRecord {
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly result: AttemptResult;
  /** The wait chosen before the next attempt, in ms, when there was one. */
  readonly delay?: number;
}

/**
 * The retry client gave up. `attempts` is the full history; `response` is the last response
 * when the last attempt got one (its body is unread, so the caller can still read it).
 */
export class RetryError extends TollgateError {
  override readonly name = 'RetryError';

  constructor(
    override readonly code: RetryErrorCode,
    message: string,
    readonly details: {
      readonly attempts: readonly AttemptRecord[];
      readonly idempotencyKey: string | undefined;
      readonly response?: Response;
      readonly cause?: unknown;
    },
  ) {
    super(code, message, { cause: details.cause });
  }

  get attempts(): readonly AttemptRecord[] {
    return this.details.attempts;
  }

  get idempotencyKey(): string | undefined {
    return this.details.idempotencyKey;
  }

  get response(): Response | undefined {
    return this.details.response;
  }
}

/**
 * The payments API answered with a final non-2xx status (400, 401, 404, 422…). `problem` is the
 * parsed body (RFC 9457 problem+json when the server sends one).
 */
export class PaymentsApiError extends TollgateError {
  override readonly name = 'PaymentsApiError';

  constructor(
    readonly status: number,
    readonly problem: unknown,
    readonly idempotencyKey: string | undefined,
  ) {
    super('PAYMENTS_API_ERROR', `payments API answered ${status}${describe(problem)}`);
  }
}

function describe(problem: unknown): string {
  if (typeof problem !== 'object' || problem === null) return '';
  const { title, detail } = problem as { title?: unknown; detail?: unknown };
  const text = [title, detail].filter((part) => typeof part === 'string').join(': ');
  return text ? ` (${text})` : '';
}
