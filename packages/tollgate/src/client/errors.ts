import type { ErrorCode } from '../codes.ts';
import { TollgateError } from '../errors.ts';

/**
 * Why the retry client gave up: the `ErrorCode.Retry*` codes a {@link RetryError} carries
 * (`ErrorCode.RetryAttemptTimeout` is an attempt's outcome, never a give-up).
 */
export type RetryErrorCode = (typeof ErrorCode)[
  | 'RetryAttemptsExhausted'
  | 'RetryDeadlineExceeded'
  | 'RetryBudgetExhausted'
  | 'RetryCircuitOpen'
  | 'RetryAborted'
  | 'RetryNotSafe'];

/** What one attempt ended with, as kept in the attempt history. */
export type AttemptResult =
  | { readonly kind: 'response'; readonly status: number }
  /** `code` is the transport error's (`ECONNREFUSED`, `UND_ERR_SOCKET`) or `ERR_RETRY_ATTEMPT_TIMEOUT`. */
  | { readonly kind: 'error'; readonly code: string; readonly sent: boolean };

/** One attempt of a logical operation. Times come from the client's injected clock. */
export interface AttemptRecord {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** When the attempt was sent, in ms since the epoch. */
  readonly startedAt: number;
  /** When its outcome was known, in ms since the epoch. */
  readonly endedAt: number;
  readonly result: AttemptResult;
  /** The wait chosen before the next attempt, when there was one. */
  readonly delayMs?: number;
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

  /** Every attempt sent, in order. */
  get attempts(): readonly AttemptRecord[] {
    return this.details.attempts;
  }

  /** The key sent with every attempt: persist it to resume the operation later. */
  get idempotencyKey(): string | undefined {
    return this.details.idempotencyKey;
  }

  /** The last attempt's response, unread, when it got one. */
  get response(): Response | undefined {
    return this.details.response;
  }
}
